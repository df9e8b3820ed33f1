//! What both views keep about an inode besides its contents: kind,
//! permissions, owner and times.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::FileType;
use serde::{Deserialize, Serialize};

/// The kinds of inode the filesystem holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket's name.
    Socket,
    /// A character device node.
    CharDevice,
    /// A block device node.
    BlockDevice,
}

impl Kind {
    /// The kind a `mknod` mode asks for (`S_IFMT` bits; 0 means a file).
    pub fn from_mode(mode: u32) -> Option<Kind> {
        match mode & libc::S_IFMT {
            0 | libc::S_IFREG => Some(Kind::File),
            libc::S_IFDIR => Some(Kind::Dir),
            libc::S_IFLNK => Some(Kind::Symlink),
            libc::S_IFIFO => Some(Kind::Fifo),
            libc::S_IFSOCK => Some(Kind::Socket),
            libc::S_IFCHR => Some(Kind::CharDevice),
            libc::S_IFBLK => Some(Kind::BlockDevice),
            _ => None,
        }
    }

    /// The kind as fuser names it.
    pub fn file_type(self) -> FileType {
        match self {
            Kind::File => FileType::RegularFile,
            Kind::Dir => FileType::Directory,
            Kind::Symlink => FileType::Symlink,
            Kind::Fifo => FileType::NamedPipe,
            Kind::Socket => FileType::Socket,
            Kind::CharDevice => FileType::CharDevice,
            Kind::BlockDevice => FileType::BlockDevice,
        }
    }
}

/// A point in time, as the metadata file stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Time {
    /// Whole seconds since the Unix epoch (negative before it).
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Time {
    /// The current time.
    pub fn now() -> Time {
        Time::from_system(SystemTime::now())
    }

    /// A `SystemTime` as a `Time`.
    pub fn from_system(t: SystemTime) -> Time {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Time {
                secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nanos: d.subsec_nanos(),
            },
            Err(before) => {
                let d = before.duration();
                let secs = -i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                match d.subsec_nanos() {
                    0 => Time { secs, nanos: 0 },
                    n => Time {
                        secs: secs - 1,
                        nanos: 1_000_000_000 - n,
                    },
                }
            }
        }
    }

    /// The time as a `SystemTime`.
    pub fn to_system(self) -> SystemTime {
        let nanos = Duration::from_nanos(u64::from(self.nanos));
        match u64::try_from(self.secs) {
            Ok(secs) => UNIX_EPOCH + Duration::from_secs(secs) + nanos,
            Err(_) => UNIX_EPOCH - Duration::from_secs(self.secs.unsigned_abs()) + nanos,
        }
    }
}

/// Permissions, owner, device number and times of an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attr {
    /// Permission bits, including set-id and sticky bits (`0o7777`).
    pub perm: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number, for device nodes.
    pub rdev: u32,
    /// Last access.
    pub atime: Time,
    /// Last change of contents.
    pub mtime: Time,
    /// Last change of contents or attributes.
    pub ctime: Time,
}

impl Attr {
    /// Attributes of an inode created now.
    pub fn new(perm: u32, uid: u32, gid: u32, rdev: u32) -> Attr {
        let now = Time::now();
        Attr {
            perm: (perm & 0o7777) as u16,
            uid,
            gid,
            rdev,
            atime: now,
            mtime: now,
            ctime: now,
        }
    }

    /// Notes a change of contents (a write, or an entry added or removed).
    pub fn touch_contents(&mut self) {
        let now = Time::now();
        self.mtime = now;
        self.ctime = now;
    }

    /// Notes a change of attributes or of the link count.
    pub fn touch_meta(&mut self) {
        self.ctime = Time::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_on_both_sides_of_the_epoch() {
        for t in [
            UNIX_EPOCH + Duration::new(1_700_000_000, 123),
            UNIX_EPOCH - Duration::new(5, 250),
            UNIX_EPOCH,
        ] {
            assert_eq!(Time::from_system(t).to_system(), t);
        }
    }

    #[test]
    fn mode_bits_name_the_kind() {
        assert_eq!(Kind::from_mode(libc::S_IFREG | 0o644), Some(Kind::File));
        assert_eq!(Kind::from_mode(0o644), Some(Kind::File));
        assert_eq!(Kind::from_mode(libc::S_IFIFO), Some(Kind::Fifo));
        assert_eq!(Kind::from_mode(0o170000), None);
    }
}
