use super::*;
use arqonbus_core::testing::audit_chain as chain;

fn ids(v: &[AuditEntry]) -> Vec<u64> {
    v.iter().map(|e| e.index).collect()
}

#[test]
fn a_page_costs_its_own_lines_not_the_whole_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Archive::new(dir.path());
    let c = chain(20_000);
    for chunk in c.chunks(2_000) {
        archive.append(chunk).expect("append");
    }
    // The first read indexes the file once.
    assert_eq!(ids(&archive.read(1, 2).expect("read")), [1, 2]);
    let scanned = archive.lines_parsed();
    assert!(scanned >= 20_000, "{scanned}");

    let page = archive.read(15_050, 100).expect("read");
    assert_eq!(ids(&page), (15_050..15_150).collect::<Vec<_>>());
    let cost = archive.lines_parsed() - scanned;
    assert!(
        cost <= INDEX_EVERY + 100,
        "one page parsed {cost} lines of a 20,000-line archive"
    );

    // What is appended later is indexed by the next read, only it.
    archive.append(&chain(20_100)[20_000..]).expect("append");
    let before = archive.lines_parsed();
    assert_eq!(ids(&archive.read(20_100, 5).expect("read")), [20_100]);
    assert!(archive.lines_parsed() - before <= 100 + INDEX_EVERY + 1);
}

#[test]
fn a_line_being_written_is_not_there_yet_and_repeats_are_read_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Archive::new(dir.path());
    let c = chain(6);
    archive.append(&c[..4]).expect("append");
    // An interrupted archive run wrote 3..=4 again.
    archive.append(&c[2..4]).expect("append again");
    let mut file = OpenOptions::new()
        .append(true)
        .open(archive.path())
        .expect("open");
    let half = serde_json::to_string(&c[4]).expect("json");
    file.write_all(&half.as_bytes()[..half.len() / 2])
        .expect("half a line");
    assert_eq!(ids(&archive.read(1, 100).expect("read")), [1, 2, 3, 4]);
    file.write_all(&half.as_bytes()[half.len() / 2..])
        .expect("the rest");
    file.write_all(b"\n").expect("newline");
    assert_eq!(ids(&archive.read(3, 100).expect("read")), [3, 4, 5]);
}

#[test]
fn an_absent_archive_is_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Archive::new(dir.path());
    assert!(archive.read(1, 10).expect("read").is_empty());
    archive
        .all(|_| panic!("no entries"))
        .expect("nothing to read");
}
