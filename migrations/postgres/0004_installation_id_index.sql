-- Forge calls name their tenant by installationId, which Connect-on-Forge installs carry.
CREATE INDEX installations_installation_id ON installations (installation_id);
