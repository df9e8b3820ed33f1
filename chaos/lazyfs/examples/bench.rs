//! Throughput of writes with fsync through the mount, against the raw
//! disk, and the syncs sled makes. Not a test: run it and read it.
//!
//! ```sh
//! cargo run --release --example bench
//! ```

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;

use arqonbus_lazyfs::{Mount, MountConfig, Stats};

const SMALL: usize = 4096;
const SMALL_COUNT: usize = 2000;
const BIG: usize = 128 * 1024;
const BIG_TOTAL: usize = 64 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let raw = dir.path().join("raw");
    std::fs::create_dir(&raw)?;
    let config = MountConfig::new(dir.path().join("backing"), dir.path().join("mnt"));
    let mount = Mount::start(&config)?;
    let mnt = &config.mountpoint;

    println!("{:<44}{:>14}{:>14}", "workload", "raw disk", "lazyfs");
    let (r, l) = (appends(&raw)?, appends(mnt)?);
    let name = format!("{SMALL_COUNT} x (append 4 KiB + fdatasync)");
    println!("{name:<44}{:>12.0}/s{:>12.0}/s", r, l);
    let (r, l) = (overwrite(&raw)?, overwrite(mnt)?);
    let name = format!("{SMALL_COUNT} x (pwrite 4 KiB in place + fsync)");
    println!("{name:<44}{:>12.0}/s{:>12.0}/s", r, l);
    let (r, l) = (streaming(&raw)?, streaming(mnt)?);
    let name = "64 MiB in 128 KiB writes, then one fsync";
    println!("{name:<44}{:>8.1} MiB/s{:>8.1} MiB/s", r, l);

    let before = mount.handle().stats()?;
    sled_flushes(mnt)?;
    let after = mount.handle().stats()?;
    println!("sled (flush_every_ms None): 100 x (100 inserts + flush()), then drop:");
    println!("  {}", diff(&before, &after));
    let before = mount.handle().stats()?;
    sled_default(mnt)?;
    let after = mount.handle().stats()?;
    println!("sled (default flush_every_ms 500): inserts for 2 s, then drop:");
    println!("  {}", diff(&before, &after));
    mount.unmount()?;
    Ok(())
}

fn appends(dir: &Path) -> std::io::Result<f64> {
    let mut f = File::create(dir.join("appends"))?;
    let block = [7u8; SMALL];
    let start = Instant::now();
    for _ in 0..SMALL_COUNT {
        f.write_all(&block)?;
        f.sync_data()?;
    }
    Ok(SMALL_COUNT as f64 / start.elapsed().as_secs_f64())
}

fn streaming(dir: &Path) -> std::io::Result<f64> {
    let mut f = File::create(dir.join("stream"))?;
    let block = vec![9u8; BIG];
    let start = Instant::now();
    for _ in 0..BIG_TOTAL / BIG {
        f.write_all(&block)?;
    }
    f.sync_all()?;
    Ok((BIG_TOTAL >> 20) as f64 / start.elapsed().as_secs_f64())
}

fn overwrite(dir: &Path) -> std::io::Result<f64> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join("in-place"))?;
    f.set_len((SMALL * 64) as u64)?;
    let block = [3u8; SMALL];
    let start = Instant::now();
    for i in 0..SMALL_COUNT {
        f.write_all_at(&block, ((i % 64) * SMALL) as u64)?;
        f.sync_all()?;
    }
    Ok(SMALL_COUNT as f64 / start.elapsed().as_secs_f64())
}

fn sled_flushes(dir: &Path) -> sled::Result<()> {
    let db = sled::Config::new()
        .path(dir.join("sled-flush"))
        .flush_every_ms(None)
        .open()?;
    for round in 0..100 {
        for i in 0..100 {
            db.insert(format!("k{round}-{i}"), vec![1u8; 100])?;
        }
        db.flush()?;
    }
    Ok(())
}

fn sled_default(dir: &Path) -> sled::Result<()> {
    let db = sled::open(dir.join("sled-default"))?;
    let start = Instant::now();
    let mut i = 0u64;
    while start.elapsed().as_secs() < 2 {
        db.insert(i.to_be_bytes(), vec![1u8; 100])?;
        i += 1;
    }
    Ok(())
}

fn diff(a: &Stats, b: &Stats) -> String {
    format!(
        "fsync={} fdatasync={} fsyncdir={} writes={} bytes_written={} unsynced_bytes={}",
        b.fsync - a.fsync,
        b.fdatasync - a.fdatasync,
        b.fsyncdir - a.fsyncdir,
        b.writes - a.writes,
        b.bytes_written - a.bytes_written,
        b.unsynced_bytes,
    )
}
