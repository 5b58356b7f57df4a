-- Numbered where the house's own migrations go: refused.
CREATE TABLE clash (id INTEGER);
