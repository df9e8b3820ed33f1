//! The accessors behind `wrap`'s visitor: sequences count and charge
//! their elements and keep the path, maps count and charge their entries,
//! enums pass the wrapping on to their variant's content.

use std::mem::size_of;

use serde::de::{DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

use super::{refused, Seed, Shape, Vis, ALLOC_OVERHEAD};
use crate::bounded::{Budget, Step};
use crate::limits::MAX_ELEMENTS;

/// Entries a leaf node of a `BTreeMap` holds: a map's first entry costs a
/// whole node, each later one about two entries (nodes split half full).
const BTREE_NODE: usize = 11;

/// Whether a container that has yielded `count` elements may go on; one
/// whose size hint says it is done may always ask for its end.
fn more(b: &Budget, count: usize, remaining: Option<usize>) -> bool {
    remaining == Some(0) || b.admit(count + 1)
}

pub(super) struct Seq<'b, A> {
    pub(super) inner: A,
    pub(super) b: &'b Budget,
    pub(super) shape: Shape,
    pub(super) index: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let counted = matches!(self.shape, Shape::Seq);
        if counted && self.index >= MAX_ELEMENTS && !more(self.b, self.index, self.size_hint()) {
            return Err(refused());
        }
        let step = match self.shape {
            Shape::Struct(fields) => fields.get(self.index).map(|f| Step::Field(f)),
            Shape::Seq => Some(Step::Index(self.index)),
            Shape::Tuple | Shape::Other => None,
        };
        if let Some(step) = step {
            self.b.push(step);
        }
        let out = self.inner.next_element_seed(Seed::new(seed, self.b));
        if step.is_some() {
            self.b.pop();
        }
        let out = out?;
        if out.is_some() {
            self.index += 1;
            if counted && !self.b.charge(size_of::<T::Value>()) {
                return Err(refused());
            }
        }
        Ok(out)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

pub(super) struct Map<'b, A> {
    pub(super) inner: A,
    pub(super) b: &'b Budget,
    pub(super) count: usize,
    pub(super) key_size: usize,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if self.count >= MAX_ELEMENTS && !more(self.b, self.count, self.size_hint()) {
            return Err(refused());
        }
        self.key_size = size_of::<K::Value>();
        self.inner.next_key_seed(Seed::new(seed, self.b))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let value = self.inner.next_value_seed(Seed::new(seed, self.b))?;
        let entry = self.key_size + size_of::<V::Value>();
        let cost = match self.count {
            0 => BTREE_NODE * entry + ALLOC_OVERHEAD,
            _ => 2 * entry,
        };
        self.count += 1;
        match self.b.charge(cost) {
            true => Ok(value),
            false => Err(refused()),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

pub(super) struct Enum<'b, A> {
    pub(super) inner: A,
    pub(super) b: &'b Budget,
}

impl<'de, 'b, A: EnumAccess<'de>> EnumAccess<'de> for Enum<'b, A> {
    type Error = A::Error;
    type Variant = Variant<'b, A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.inner.variant_seed(seed)?;
        Ok((
            value,
            Variant {
                inner: variant,
                b: self.b,
            },
        ))
    }
}

pub(super) struct Variant<'b, A> {
    inner: A,
    b: &'b Budget,
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Variant<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.newtype_variant_seed(Seed::new(seed, self.b))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, A::Error> {
        let vis = Vis::new(v, self.b, Shape::Tuple);
        self.inner.tuple_variant(len, vis)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, A::Error> {
        let vis = Vis::new(v, self.b, Shape::Struct(fields));
        self.inner.struct_variant(fields, vis)
    }
}
