//! How the root resources (session, site info, the signed-out notice) travel from the server
//! render to the browser's hydration: a small length-prefixed text format instead of JSON. These
//! are the only values the first page load decodes, so the browser's main bundle needs no
//! serde_json (nor the float formatting serde's error messages pull in); pages loaded later still
//! use JSON for their server functions. The dashboard's claims travel this way too: the renderer
//! escapes hydration data character by character, and JSON's quotes made that a tenth of a
//! dashboard render.
//!
//! Format: text is `<byte length>:<text>`, a number `<digits>;`, a variant or presence marker one
//! ASCII letter. Decoding is strict: anything malformed or left over is an error, never a guess.

use std::fmt::Write as _;

use leptos::server::codee::{Decoder, Encoder};

use crate::error::ServerError;
use crate::session::{AuthState, SessionView, TokenFingerprints, UserSummary};

/// The codec for `Resource::new_with_options`.
pub struct PageCodec;

/// The hydration data could not be read (it is written by our own server, so this is a bug).
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

/// Values that can travel in the page.
pub trait PageText: Sized {
    /// The fewest bytes one value takes: a list claiming more items than its remaining input
    /// could hold is refused before anything is allocated.
    const MIN_BYTES: u64 = 1;

    /// Appends the value.
    fn write(&self, out: &mut Writer);
    /// Takes one value off the front of `input`; None if it is not one.
    fn read(input: &mut Reader) -> Option<Self>;
}

impl<T: PageText> Encoder<T> for PageCodec {
    type Error = std::convert::Infallible;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        let mut out = Writer(String::new());
        value.write(&mut out);
        Ok(out.0)
    }
}

impl<T: PageText> Decoder<T> for PageCodec {
    type Error = Malformed;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, Malformed> {
        let mut input = Reader(text);
        match T::read(&mut input) {
            Some(value) if input.0.is_empty() => Ok(value),
            _ => Err(Malformed),
        }
    }
}

/// The text being written.
pub struct Writer(String);

impl Writer {
    /// A text, with its length first.
    pub fn text(&mut self, text: &str) {
        let _ = write!(self.0, "{}:{text}", text.len());
    }

    /// A number.
    pub fn number(&mut self, number: u64) {
        let _ = write!(self.0, "{number};");
    }

    /// One ASCII letter that says which variant (or whether present) follows.
    pub fn marker(&mut self, marker: char) {
        self.0.push(marker);
    }

    /// A text or its absence.
    pub fn optional(&mut self, text: Option<&str>) {
        match text {
            Some(text) => {
                self.marker('s');
                self.text(text);
            }
            None => self.marker('n'),
        }
    }

    /// A count, then each item.
    pub fn list<T: PageText>(&mut self, items: &[T]) {
        self.number(items.len() as u64);
        for item in items {
            item.write(self);
        }
    }
}

/// The text left to read.
pub struct Reader<'a>(&'a str);

/// Longest length or number accepted (u64 has 20 digits).
const MAX_DIGITS: usize = 20;

impl Reader<'_> {
    fn digits_until(&mut self, end: char) -> Option<u64> {
        let (digits, rest) = self.0.split_once(end)?;
        if digits.is_empty()
            || digits.len() > MAX_DIGITS
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        self.0 = rest;
        digits.parse().ok()
    }

    /// A text, as [`Writer::text`] wrote it.
    pub fn text(&mut self) -> Option<String> {
        let len = usize::try_from(self.digits_until(':')?).ok()?;
        // `get` refuses a length past the end or inside a character.
        let text = self.0.get(..len)?;
        self.0 = &self.0[len..];
        Some(text.to_string())
    }

    /// A number.
    pub fn number(&mut self) -> Option<u64> {
        self.digits_until(';')
    }

    /// A marker letter.
    pub fn marker(&mut self) -> Option<char> {
        let marker = self.0.chars().next().filter(char::is_ascii_alphabetic)?;
        self.0 = &self.0[1..];
        Some(marker)
    }

    /// A text or its absence.
    pub fn optional(&mut self) -> Option<Option<String>> {
        match self.marker()? {
            's' => Some(Some(self.text()?)),
            'n' => Some(None),
            _ => None,
        }
    }

    /// A list, refusing a count its remaining input could not hold.
    pub fn list<T: PageText>(&mut self) -> Option<Vec<T>> {
        let count = self.number()?;
        // A count beyond what the rest could hold is a lie, not an allocation.
        if count > self.0.len() as u64 / T::MIN_BYTES {
            return None;
        }
        (0..count).map(|_| T::read(self)).collect()
    }
}

impl PageText for String {
    /// An empty text: `0:`.
    const MIN_BYTES: u64 = 2;

    fn write(&self, out: &mut Writer) {
        out.text(self);
    }

    fn read(input: &mut Reader) -> Option<String> {
        input.text()
    }
}

impl PageText for bool {
    fn write(&self, out: &mut Writer) {
        out.marker(if *self { 't' } else { 'f' });
    }

    fn read(input: &mut Reader) -> Option<bool> {
        match input.marker()? {
            't' => Some(true),
            'f' => Some(false),
            _ => None,
        }
    }
}

impl<T: PageText> PageText for Result<T, ServerError> {
    fn write(&self, out: &mut Writer) {
        match self {
            Ok(value) => {
                out.marker('k');
                value.write(out);
            }
            Err(error) => {
                out.marker('e');
                error.write(out);
            }
        }
    }

    fn read(input: &mut Reader) -> Option<Self> {
        match input.marker()? {
            'k' => Some(Ok(T::read(input)?)),
            'e' => Some(Err(ServerError::read(input)?)),
            _ => None,
        }
    }
}

impl PageText for ServerError {
    fn write(&self, out: &mut Writer) {
        match self {
            ServerError::BadRequest(detail) => {
                out.marker('B');
                out.text(detail);
            }
            ServerError::Unauthorized => out.marker('U'),
            ServerError::Forbidden(permission) => {
                out.marker('F');
                out.text(permission);
            }
            ServerError::NotFound => out.marker('N'),
            ServerError::ProviderError => out.marker('P'),
            ServerError::ProviderUnavailable => out.marker('A'),
            ServerError::Internal => out.marker('I'),
            ServerError::Transport(detail) => {
                out.marker('T');
                out.text(detail);
            }
        }
    }

    fn read(input: &mut Reader) -> Option<Self> {
        Some(match input.marker()? {
            'B' => ServerError::BadRequest(input.text()?),
            'U' => ServerError::Unauthorized,
            'F' => ServerError::Forbidden(input.text()?),
            'N' => ServerError::NotFound,
            'P' => ServerError::ProviderError,
            'A' => ServerError::ProviderUnavailable,
            'I' => ServerError::Internal,
            'T' => ServerError::Transport(input.text()?),
            _ => return None,
        })
    }
}

impl PageText for AuthState {
    fn write(&self, out: &mut Writer) {
        match self {
            AuthState::SignedOut => out.marker('O'),
            AuthState::SessionEnded => out.marker('E'),
            AuthState::SignedIn(view) => {
                out.marker('S');
                view.write(out);
            }
            AuthState::ProviderUnavailable(view) => {
                out.marker('P');
                view.write(out);
            }
        }
    }

    fn read(input: &mut Reader) -> Option<Self> {
        Some(match input.marker()? {
            'O' => AuthState::SignedOut,
            'E' => AuthState::SessionEnded,
            'S' => AuthState::SignedIn(SessionView::read(input)?),
            'P' => AuthState::ProviderUnavailable(SessionView::read(input)?),
            _ => return None,
        })
    }
}

impl PageText for SessionView {
    fn write(&self, out: &mut Writer) {
        let user = &self.user;
        out.text(&user.sub);
        out.text(&user.name);
        out.optional(user.email.as_deref());
        out.optional(user.organization_id.as_deref());
        out.list(&user.roles);
        out.list(&user.permissions);
        out.number(self.access_token_expires_at);
        out.number(self.idle_expires_at);
        out.number(self.absolute_expires_at);
        out.number(self.signed_in_at);
        out.optional(self.tokens.access_token.as_deref());
        out.optional(self.tokens.refresh_token.as_deref());
        out.optional(self.tokens.id_token.as_deref());
    }

    fn read(input: &mut Reader) -> Option<Self> {
        Some(SessionView {
            user: UserSummary {
                sub: input.text()?,
                name: input.text()?,
                email: input.optional()?,
                organization_id: input.optional()?,
                roles: input.list()?,
                permissions: input.list()?,
            },
            access_token_expires_at: input.number()?,
            idle_expires_at: input.number()?,
            absolute_expires_at: input.number()?,
            signed_in_at: input.number()?,
            tokens: TokenFingerprints {
                access_token: input.optional()?,
                refresh_token: input.optional()?,
                id_token: input.optional()?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn round_trip<T: PageText + PartialEq + std::fmt::Debug>(value: T) {
        let text = <PageCodec as Encoder<T>>::encode(&value).unwrap();
        assert_eq!(
            <PageCodec as Decoder<T>>::decode(&text),
            Ok(value),
            "{text}"
        );
    }

    fn view(name: &str) -> SessionView {
        SessionView {
            user: UserSummary {
                sub: "usr_1".into(),
                name: name.into(),
                email: Some("ada@example.com".into()),
                organization_id: None,
                roles: vec!["admin".into()],
                permissions: vec!["organization:settings".into(), "".into()],
            },
            access_token_expires_at: u64::MAX,
            idle_expires_at: 0,
            absolute_expires_at: 1_800_000_000,
            signed_in_at: 1_700_000_000,
            tokens: TokenFingerprints {
                access_token: Some("3f2a".into()),
                refresh_token: None,
                id_token: Some("9:x;".into()),
            },
        }
    }

    #[test]
    fn every_root_value_survives_the_trip() {
        for state in [
            AuthState::SignedOut,
            AuthState::SessionEnded,
            AuthState::SignedIn(view("Ada Lovelace")),
            AuthState::ProviderUnavailable(view("名前 with 3:colons; and\nnewlines")),
        ] {
            round_trip(Ok::<_, ServerError>(state));
        }
        for error in [
            ServerError::BadRequest("12:tricky".into()),
            ServerError::Unauthorized,
            ServerError::Forbidden("organization:settings".into()),
            ServerError::NotFound,
            ServerError::ProviderError,
            ServerError::ProviderUnavailable,
            ServerError::Internal,
            ServerError::Transport(String::new()),
        ] {
            round_trip(Err::<AuthState, _>(error));
        }
        round_trip(true);
        round_trip(false);
    }

    #[test]
    fn malformed_text_is_refused() {
        let good = <PageCodec as Encoder<Result<AuthState, ServerError>>>::encode(&Ok(
            AuthState::SignedIn(view("Ada")),
        ))
        .unwrap();
        let decode =
            |text: &str| <PageCodec as Decoder<Result<AuthState, ServerError>>>::decode(text);
        assert!(decode(&good).is_ok());
        for bad in [
            String::new(),
            format!("{good}x"),
            good[..good.len() - 1].to_string(),
            "kS99999999999999999999999:".into(),
            "kS5:usr_1".into(),
            "kS1:é".into(),
            "kX".into(),
            "kS5:usr_13:Ada".to_string() + "s3:a@b" + "n" + "18446744073709551615;",
        ] {
            assert_eq!(decode(&bad), Err(Malformed), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_text_round_trips_and_no_input_panics(
            name in any::<String>(),
            roles in proptest::collection::vec(any::<String>(), 0..4),
            noise in any::<String>(),
        ) {
            let mut v = view(&name);
            v.user.roles = roles;
            round_trip(Ok::<_, ServerError>(AuthState::SignedIn(v)));
            let _ = <PageCodec as Decoder<Result<AuthState, ServerError>>>::decode(&noise);
        }
    }
}
