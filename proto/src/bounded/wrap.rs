//! The serde wrappers behind `bounded`: a deserializer, a visitor and the
//! sequence, map and enum accessors around bincode's. They check counts,
//! charge decoded memory and keep the path; everything else is forwarded
//! unchanged, so the bytes accepted are exactly bincode's.

mod access;

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

use super::Budget;
use access::{Enum, Map, Seq};

/// What the allocator adds to each heap block (a string, a node).
const ALLOC_OVERHEAD: usize = 16;

fn refused<E: de::Error>() -> E {
    E::custom("over a decoding bound")
}

/// The seed that decodes a whole `T` under `b`.
pub(super) fn top<T>(b: &Budget) -> Seed<'_, PhantomData<T>> {
    Seed {
        inner: PhantomData,
        b,
    }
}

/// A seed whose deserializer is wrapped.
pub(super) struct Seed<'b, S> {
    inner: S,
    b: &'b Budget,
}

impl<'b, S> Seed<'b, S> {
    fn new(inner: S, b: &'b Budget) -> Self {
        Seed { inner, b }
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(De {
            inner: d,
            b: self.b,
        })
    }
}

/// What a visitor is about to be handed: the fields of a struct, a tuple
/// (fixed length, nothing to count), a sequence, or anything else.
#[derive(Clone, Copy)]
enum Shape {
    Struct(&'static [&'static str]),
    Tuple,
    Seq,
    Other,
}

struct De<'b, D> {
    inner: D,
    b: &'b Budget,
}

impl<'b, D> De<'b, D> {
    fn vis<V>(&self, inner: V, shape: Shape) -> Vis<'b, V> {
        Vis::new(inner, self.b, shape)
    }
}

macro_rules! forward_plain {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for De<'_, D> {
    type Error = D::Error;

    forward_plain! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_unit
        deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Other);
        self.inner.deserialize_any(vis)
    }

    // Strings and byte strings are borrowed from the input, then copied by
    // the visitor: a length the input does not hold allocates nothing.
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Other);
        self.inner.deserialize_str(vis)
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Other);
        self.inner.deserialize_bytes(vis)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.deserialize_bytes(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Other);
        self.inner.deserialize_option(vis)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_unit_struct(name, v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Other);
        self.inner.deserialize_newtype_struct(name, vis)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Seq);
        self.inner.deserialize_seq(vis)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Tuple);
        self.inner.deserialize_tuple(len, vis)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Tuple);
        self.inner.deserialize_tuple_struct(name, len, vis)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Other);
        self.inner.deserialize_map(vis)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Struct(fields));
        self.inner.deserialize_struct(name, fields, vis)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        let vis = self.vis(v, Shape::Other);
        self.inner.deserialize_enum(name, variants, vis)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

struct Vis<'b, V> {
    inner: V,
    b: &'b Budget,
    shape: Shape,
}

impl<'b, V> Vis<'b, V> {
    fn new(inner: V, b: &'b Budget, shape: Shape) -> Self {
        Vis { inner, b, shape }
    }

    /// Charges a heap block of `len` bytes.
    fn block<E: de::Error>(&self, len: usize) -> Result<(), E> {
        match self.b.charge(len + ALLOC_OVERHEAD) {
            true => Ok(()),
            false => Err(refused()),
        }
    }
}

macro_rules! forward_visit {
    ($($method:ident: $t:ty)*) => {$(
        fn $method<E: de::Error>(self, v: $t) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Vis<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool: bool visit_i8: i8 visit_i16: i16 visit_i32: i32 visit_i64: i64
        visit_i128: i128 visit_u8: u8 visit_u16: u16 visit_u32: u32 visit_u64: u64
        visit_u128: u128 visit_f32: f32 visit_f64: f64 visit_char: char
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.block(v.len())?;
        self.inner.visit_borrowed_str(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.block(v.len())?;
        self.inner.visit_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.block(v.len())?;
        self.inner.visit_string(v)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        self.block(v.len())?;
        self.inner.visit_borrowed_bytes(v)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.block(v.len())?;
        self.inner.visit_bytes(v)
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        self.block(v.len())?;
        self.inner.visit_byte_buf(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(De {
            inner: d,
            b: self.b,
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(De {
            inner: d,
            b: self.b,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if matches!(self.shape, Shape::Seq) && !self.b.admit(seq.size_hint().unwrap_or(0)) {
            return Err(refused());
        }
        self.inner.visit_seq(Seq {
            inner: seq,
            b: self.b,
            shape: self.shape,
            index: 0,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        if !self.b.admit(map.size_hint().unwrap_or(0)) {
            return Err(refused());
        }
        self.inner.visit_map(Map {
            inner: map,
            b: self.b,
            count: 0,
            key_size: 0,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(Enum {
            inner: data,
            b: self.b,
        })
    }
}
