//! Byte strings whose length is bounded on decode.

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A byte string of at most `MAX` bytes.
///
/// Decoding refuses a longer one with [`DecodeError::FieldTooLong`](super::DecodeError), so a
/// peer cannot make a node hold more than the protocol allows in any field.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct BoundedBytes<const MAX: usize>(Vec<u8>);

impl<const MAX: usize> BoundedBytes<MAX> {
    /// The bound, in bytes.
    pub const MAX: usize = MAX;

    /// Wraps `bytes`, or gives them back if they are longer than `MAX`.
    pub fn new(bytes: Vec<u8>) -> Result<Self, Vec<u8>> {
        if bytes.len() <= MAX {
            Ok(BoundedBytes(bytes))
        } else {
            Err(bytes)
        }
    }

    /// The bytes, unwrapped.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

impl<const MAX: usize> Deref for BoundedBytes<MAX> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<const MAX: usize> fmt::Debug for BoundedBytes<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoundedBytes<{MAX}>({} bytes)", self.0.len())
    }
}

impl<const MAX: usize> Serialize for BoundedBytes<MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for BoundedBytes<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(BoundedVisitor::<MAX>(PhantomData))
    }
}

struct BoundedVisitor<const MAX: usize>(PhantomData<()>);

impl<const MAX: usize> Visitor<'_> for BoundedVisitor<MAX> {
    type Value = BoundedBytes<MAX>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at most {MAX} bytes")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        if v.len() > MAX {
            return Err(E::invalid_length(v.len(), &self));
        }
        Ok(BoundedBytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        if v.len() > MAX {
            return Err(E::invalid_length(v.len(), &self));
        }
        Ok(BoundedBytes(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_than_bound_is_refused_on_decode() {
        let long = postcard::to_allocvec(&BoundedBytes::<8>(vec![7; 9])).unwrap();
        assert_eq!(
            postcard::from_bytes::<BoundedBytes<8>>(&long),
            Err(postcard::Error::SerdeDeCustom)
        );
        let ok = postcard::to_allocvec(&BoundedBytes::<8>(vec![7; 8])).unwrap();
        assert_eq!(
            postcard::from_bytes::<BoundedBytes<8>>(&ok).unwrap().len(),
            8
        );
    }

    #[test]
    fn new_refuses_oversize() {
        assert!(BoundedBytes::<2>::new(vec![1, 2, 3]).is_err());
        assert!(BoundedBytes::<2>::new(vec![1, 2]).is_ok());
    }
}

/// A list of at most `MAX` items.
///
/// Decoding refuses a longer one with [`DecodeError::FieldTooLong`](super::DecodeError) before
/// decoding its items, so a peer cannot make a node allocate or hold more than the bound.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BoundedVec<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> BoundedVec<T, MAX> {
    /// The bound, in items.
    pub const MAX: usize = MAX;

    /// Wraps `items`, or gives them back if there are more than `MAX`.
    pub fn new(items: Vec<T>) -> Result<Self, Vec<T>> {
        if items.len() <= MAX {
            Ok(BoundedVec(items))
        } else {
            Err(items)
        }
    }

    /// Takes at most the first `MAX` items of `items`.
    pub fn truncating(mut items: Vec<T>) -> Self {
        items.truncate(MAX);
        BoundedVec(items)
    }

    /// The items, unwrapped.
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T, const MAX: usize> Default for BoundedVec<T, MAX> {
    fn default() -> Self {
        BoundedVec(Vec::new())
    }
}

impl<T, const MAX: usize> Deref for BoundedVec<T, MAX> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Serialize, const MAX: usize> Serialize for BoundedVec<T, MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for BoundedVec<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(BoundedSeqVisitor::<T, MAX>(PhantomData))
    }
}

struct BoundedSeqVisitor<T, const MAX: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for BoundedSeqVisitor<T, MAX> {
    type Value = BoundedVec<T, MAX>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at most {MAX} items")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let claimed = seq.size_hint().unwrap_or(0);
        if claimed > MAX {
            return Err(de::Error::invalid_length(claimed, &self));
        }
        let mut items = Vec::with_capacity(claimed);
        while let Some(item) = seq.next_element()? {
            if items.len() == MAX {
                return Err(de::Error::invalid_length(MAX + 1, &self));
            }
            items.push(item);
        }
        Ok(BoundedVec(items))
    }
}

#[cfg(test)]
mod vec_tests {
    use super::*;

    #[test]
    fn more_items_than_bound_are_refused_on_decode() {
        let long = postcard::to_allocvec(&vec![1u16, 2, 3]).unwrap();
        assert_eq!(
            postcard::from_bytes::<BoundedVec<u16, 2>>(&long),
            Err(postcard::Error::SerdeDeCustom)
        );
        let ok = postcard::from_bytes::<BoundedVec<u16, 3>>(&long).unwrap();
        assert_eq!(&ok[..], &[1, 2, 3]);
        assert_eq!(BoundedVec::<u8, 2>::truncating(vec![1, 2, 3]).len(), 2);
    }
}
