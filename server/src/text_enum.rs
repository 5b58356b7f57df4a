//! An enum the database stores as text: each variant with its one name, read
//! back with `TryFrom<String>` (for `#[sqlx(try_from = "String")]`), written
//! with `as_str`, shown and serialized as that name. A name the enum does not
//! have is an error, never a default.

/// `text_enum! { /// docs  pub enum Name { /// docs  Variant => "name", … } }`
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> std::result::Result<Self, String> {
                match value.as_str() {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!("unknown {} {other:?}", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    text_enum! {
        enum Colour {
            Red => "red",
            DarkBlue => "dark-blue",
        }
    }

    #[test]
    fn each_variant_reads_back_from_its_name_and_nothing_else_does() {
        for colour in [Colour::Red, Colour::DarkBlue] {
            assert_eq!(Colour::try_from(colour.as_str().to_string()), Ok(colour));
            assert_eq!(colour.to_string(), colour.as_str());
            assert_eq!(serde_json::to_string(&colour).unwrap(), format!("\"{colour}\""));
        }
        assert_eq!(Colour::DarkBlue.as_str(), "dark-blue");
        assert_eq!(Colour::try_from("Red".to_string()), Err("unknown Colour \"Red\"".to_string()));
    }
}
