//! Whether an executable can run in an empty (`scratch`) image: it must be
//! statically linked. A dynamically linked ELF names its loader (`PT_INTERP`,
//! e.g. `/lib64/ld-linux-x86-64.so.2`), which a scratch image does not
//! have, so its containers cannot even start. A static or static-pie build
//! names none.

use anyhow::{bail, Context};
use std::path::Path;

const PT_INTERP: u32 = 3;

/// Fails, saying how to build the static binary, unless `exe` is a static
/// 64-bit little-endian ELF executable.
pub fn require_static(exe: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(exe).with_context(|| format!("reading {}", exe.display()))?;
    match interpreter(&bytes).with_context(|| format!("{} is not an executable", exe.display()))? {
        None => Ok(()),
        Some(loader) => bail!(
            "{} is dynamically linked (it needs the loader {loader}), so it cannot run in the \
             scratch image; give --arqonbus the static build: RUSTFLAGS=\"-C \
             target-feature=+crt-static\" cargo build --release --target x86_64-unknown-linux-gnu",
            exe.display()
        ),
    }
}

/// The loader a 64-bit little-endian ELF file asks for, if any.
fn interpreter(elf: &[u8]) -> anyhow::Result<Option<String>> {
    if elf.get(..4) != Some(b"\x7fELF".as_slice()) {
        bail!("no ELF header");
    }
    if elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        bail!("not a 64-bit little-endian ELF file");
    }
    let phoff = u64_at(elf, 0x20)? as usize;
    let entsize = u16_at(elf, 0x36)? as usize;
    let count = u16_at(elf, 0x38)? as usize;
    for i in 0..count {
        let header = phoff + i * entsize;
        if u32_at(elf, header)? != PT_INTERP {
            continue;
        }
        let offset = u64_at(elf, header + 8)? as usize;
        let size = u64_at(elf, header + 32)? as usize;
        let name = elf
            .get(offset..offset.saturating_add(size))
            .context("the loader's name is outside the file")?;
        let name = name.split(|&b| b == 0).next().unwrap_or_default();
        return Ok(Some(String::from_utf8_lossy(name).into_owned()));
    }
    Ok(None)
}

fn field<const N: usize>(elf: &[u8], at: usize) -> anyhow::Result<[u8; N]> {
    elf.get(at..at + N)
        .and_then(|b| b.try_into().ok())
        .context("the ELF headers are cut short")
}

fn u16_at(elf: &[u8], at: usize) -> anyhow::Result<u16> {
    Ok(u16::from_le_bytes(field(elf, at)?))
}

fn u32_at(elf: &[u8], at: usize) -> anyhow::Result<u32> {
    Ok(u32::from_le_bytes(field(elf, at)?))
}

fn u64_at(elf: &[u8], at: usize) -> anyhow::Result<u64> {
    Ok(u64::from_le_bytes(field(elf, at)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF header and one program header of type `p_type`.
    fn elf_with(p_type: u32) -> Vec<u8> {
        let mut elf = vec![0u8; 64 + 56 + 16];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2;
        elf[5] = 1;
        elf[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        elf[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        elf[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        elf[64..68].copy_from_slice(&p_type.to_le_bytes());
        elf[64 + 8..64 + 16].copy_from_slice(&120u64.to_le_bytes());
        elf[64 + 32..64 + 40].copy_from_slice(&8u64.to_le_bytes());
        elf[120..128].copy_from_slice(b"/ld.so\0\0");
        elf
    }

    #[test]
    fn a_loader_makes_it_dynamic_and_none_static() {
        assert_eq!(
            interpreter(&elf_with(PT_INTERP)).expect("reads"),
            Some("/ld.so".into())
        );
        assert_eq!(interpreter(&elf_with(1)).expect("reads"), None);
        assert!(interpreter(b"#!/bin/sh").is_err());
        assert!(interpreter(&elf_with(PT_INTERP)[..70]).is_err());
    }

    #[test]
    fn this_test_binary_is_dynamic_and_is_refused_with_the_way_out() {
        let exe = std::env::current_exe().expect("current exe");
        let err = require_static(&exe).expect_err("a debug build is dynamically linked");
        let text = err.to_string();
        assert!(text.contains("dynamically linked"), "{text}");
        assert!(text.contains("crt-static"), "{text}");
    }
}
