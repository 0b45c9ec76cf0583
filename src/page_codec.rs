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

use crate::error::AppError;
use crate::session_api::AuthState;
use crate::session_view::{ClaimRow, SessionClaims, SessionView, TokenFingerprints, UserSummary};
use crate::site_info::SiteInfo;

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

    fn write(&self, out: &mut Writer);
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

pub struct Writer(String);

impl Writer {
    pub fn text(&mut self, text: &str) {
        let _ = write!(self.0, "{}:{text}", text.len());
    }

    pub fn number(&mut self, number: u64) {
        let _ = write!(self.0, "{number};");
    }

    pub fn marker(&mut self, marker: char) {
        self.0.push(marker);
    }

    pub fn optional(&mut self, text: Option<&str>) {
        match text {
            Some(text) => {
                self.marker('s');
                self.text(text);
            }
            None => self.marker('n'),
        }
    }

    pub fn list<T: PageText>(&mut self, items: &[T]) {
        self.number(items.len() as u64);
        for item in items {
            item.write(self);
        }
    }
}

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

    pub fn text(&mut self) -> Option<String> {
        let len = usize::try_from(self.digits_until(':')?).ok()?;
        // `get` refuses a length past the end or inside a character.
        let text = self.0.get(..len)?;
        self.0 = &self.0[len..];
        Some(text.to_string())
    }

    pub fn number(&mut self) -> Option<u64> {
        self.digits_until(';')
    }

    pub fn marker(&mut self) -> Option<char> {
        let marker = self.0.chars().next().filter(char::is_ascii_alphabetic)?;
        self.0 = &self.0[1..];
        Some(marker)
    }

    pub fn optional(&mut self) -> Option<Option<String>> {
        match self.marker()? {
            's' => Some(Some(self.text()?)),
            'n' => Some(None),
            _ => None,
        }
    }

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

impl PageText for ClaimRow {
    /// Two empty texts.
    const MIN_BYTES: u64 = 4;

    fn write(&self, out: &mut Writer) {
        out.text(&self.name);
        out.text(&self.value);
    }

    fn read(input: &mut Reader) -> Option<ClaimRow> {
        Some(ClaimRow {
            name: input.text()?,
            value: input.text()?,
        })
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

impl<T: PageText> PageText for Result<T, AppError> {
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
            'e' => Some(Err(AppError::read(input)?)),
            _ => None,
        }
    }
}

impl PageText for AppError {
    fn write(&self, out: &mut Writer) {
        match self {
            AppError::BadRequest(detail) => {
                out.marker('B');
                out.text(detail);
            }
            AppError::Unauthorized => out.marker('U'),
            AppError::Forbidden(permission) => {
                out.marker('F');
                out.text(permission);
            }
            AppError::NotFound => out.marker('N'),
            AppError::ProviderError => out.marker('P'),
            AppError::ProviderUnavailable => out.marker('A'),
            AppError::Internal => out.marker('I'),
            AppError::Transport(detail) => {
                out.marker('T');
                out.text(detail);
            }
        }
    }

    fn read(input: &mut Reader) -> Option<Self> {
        Some(match input.marker()? {
            'B' => AppError::BadRequest(input.text()?),
            'U' => AppError::Unauthorized,
            'F' => AppError::Forbidden(input.text()?),
            'N' => AppError::NotFound,
            'P' => AppError::ProviderError,
            'A' => AppError::ProviderUnavailable,
            'I' => AppError::Internal,
            'T' => AppError::Transport(input.text()?),
            _ => return None,
        })
    }
}

impl PageText for SiteInfo {
    fn write(&self, out: &mut Writer) {
        self.dev_idp.write(out);
        out.text(&self.environment_url);
    }

    fn read(input: &mut Reader) -> Option<Self> {
        Some(SiteInfo {
            dev_idp: bool::read(input)?,
            environment_url: input.text()?,
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

impl PageText for SessionClaims {
    fn write(&self, out: &mut Writer) {
        out.list(&self.id_token);
        out.list(&self.access_token);
    }

    fn read(input: &mut Reader) -> Option<Self> {
        Some(SessionClaims {
            id_token: input.list()?,
            access_token: input.list()?,
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
            round_trip(Ok::<_, AppError>(state));
        }
        for error in [
            AppError::BadRequest("12:tricky".into()),
            AppError::Unauthorized,
            AppError::Forbidden("organization:settings".into()),
            AppError::NotFound,
            AppError::ProviderError,
            AppError::ProviderUnavailable,
            AppError::Internal,
            AppError::Transport(String::new()),
        ] {
            round_trip(Err::<AuthState, _>(error));
        }
        round_trip(Ok::<_, AppError>(SiteInfo {
            dev_idp: true,
            environment_url: "http://127.0.0.1:3000/dev-idp".into(),
        }));
        round_trip(true);
        round_trip(false);
        round_trip(Ok::<_, AppError>(claims()));
        round_trip(Ok::<_, AppError>(SessionClaims::default()));
        round_trip(Err::<SessionClaims, _>(AppError::Unauthorized));
    }

    fn claims() -> SessionClaims {
        let row = |name: &str, value: &str| ClaimRow {
            name: name.into(),
            value: value.into(),
        };
        SessionClaims {
            id_token: vec![row("amr", "conn_1"), row("", ""), row("nonce", "2:x;é")],
            access_token: vec![row(
                "permissions",
                "organization:settings, api_clients:manage",
            )],
        }
    }

    #[test]
    fn malformed_claims_are_refused() {
        let decode =
            |text: &str| <PageCodec as Decoder<Result<SessionClaims, AppError>>>::decode(text);
        let good =
            <PageCodec as Encoder<Result<SessionClaims, AppError>>>::encode(&Ok(claims())).unwrap();
        assert_eq!(decode(&good), Ok(Ok(claims())));
        for bad in [
            good[..good.len() - 1].to_string(),
            format!("{good}0;"),
            "k1;3:amr0;".into(),
            "k99999;0:0:0;".into(),
            "k1;3:amr6:conn_1".into(),
        ] {
            assert_eq!(decode(&bad), Err(Malformed), "{bad:?}");
        }
    }

    #[test]
    fn malformed_text_is_refused() {
        let good = <PageCodec as Encoder<Result<AuthState, AppError>>>::encode(&Ok(
            AuthState::SignedIn(view("Ada")),
        ))
        .unwrap();
        let decode = |text: &str| <PageCodec as Decoder<Result<AuthState, AppError>>>::decode(text);
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
            round_trip(Ok::<_, AppError>(AuthState::SignedIn(v)));
            let _ = <PageCodec as Decoder<Result<AuthState, AppError>>>::decode(&noise);
        }
    }
}
