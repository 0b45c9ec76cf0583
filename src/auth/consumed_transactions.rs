//! Sign-in transactions whose callback already reached the token endpoint. Clearing the
//! transaction cookie only asks the browser to forget it; a client that keeps the cookie could
//! replay the callback with made-up codes for ten minutes, each a client-authenticated call to
//! the provider that spends the client's quota for everyone. This record makes one transaction
//! worth at most one token-endpoint call (checklist L6). Per process for now; with several
//! instances it belongs in the shared store.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::expiring_set::{ExpiringSet, Inserted, WhenFull};
use super::transaction::{Transaction, TRANSACTION_TTL_SECS};

/// Most transactions remembered at once: sign-ins within one transaction lifetime (ten
/// minutes). Past it new callbacks are refused (503) rather than let a transaction be replayed.
pub const MAX_CONSUMED_TRANSACTIONS: usize = 200_000;

/// Why a transaction cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumeError {
    /// Its callback was already handled.
    AlreadyUsed,
    /// Too many sign-ins are in progress to remember another one.
    Busy,
}

pub struct ConsumedTransactions {
    /// base64url(SHA-256(state)) → when the transaction would have expired anyway.
    consumed: ExpiringSet,
}

impl Default for ConsumedTransactions {
    fn default() -> Self {
        ConsumedTransactions::with_capacity(MAX_CONSUMED_TRANSACTIONS)
    }
}

impl ConsumedTransactions {
    pub fn with_capacity(capacity: usize) -> ConsumedTransactions {
        ConsumedTransactions {
            consumed: ExpiringSet::new(capacity, WhenFull::Refuse),
        }
    }

    /// Marks `transaction` used; only the first call for a transaction succeeds.
    pub fn consume(&self, transaction: &Transaction, now: u64) -> Result<(), ConsumeError> {
        let key = URL_SAFE_NO_PAD.encode(Sha256::digest(transaction.state.as_bytes()));
        // Kept a minute past the transaction's own lifetime: `is_expired` allows that much skew.
        let forget_after = transaction.created_at + TRANSACTION_TTL_SECS + 60;
        match self.consumed.insert(&key, forget_after, now) {
            Inserted::New => Ok(()),
            Inserted::AlreadyPresent => Err(ConsumeError::AlreadyUsed),
            Inserted::Full | Inserted::NewInPlaceOfAnother => Err(ConsumeError::Busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l6_a_transaction_is_consumed_once() {
        let consumed = ConsumedTransactions::default();
        let first = Transaction::new("/".into(), 1_000);
        let second = Transaction::new("/".into(), 1_000);
        assert_eq!(consumed.consume(&first, 1_001), Ok(()));
        assert_eq!(
            consumed.consume(&first, 1_002),
            Err(ConsumeError::AlreadyUsed)
        );
        assert_eq!(consumed.consume(&second, 1_002), Ok(()));
        let full = ConsumedTransactions::with_capacity(1);
        full.consume(&first, 1_001).ok();
        assert_eq!(full.consume(&second, 1_001), Err(ConsumeError::Busy));
    }
}
