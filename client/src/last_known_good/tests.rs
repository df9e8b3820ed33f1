use super::*;

fn params() -> Parameters {
    Parameters::from([
        ("batch_size".to_string(), ParamValue::Int(32)),
        ("temperature".to_string(), ParamValue::Float(0.7)),
        ("mode".to_string(), ParamValue::Enum("chat".into())),
    ])
}

#[tokio::test]
async fn a_restarted_client_reads_back_what_it_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lkg.json");
    let mut lkg = LastKnownGood::open(&path).expect("empty store");
    assert!(lkg.get("svc").is_none());
    assert!(lkg.set("svc", params()), "a change");
    assert!(!path.exists(), "set changes memory only");
    assert!(!lkg.set("svc", params()), "no change");
    let file = LkgFile::new(&path);
    file.write(|| lkg.render()).await.expect("saved");
    drop(lkg);
    let again = LastKnownGood::open(&path).expect("reopened");
    assert_eq!(again.get("svc"), Some(&params()));
}

#[test]
fn a_damaged_file_is_an_error_not_an_empty_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lkg.json");
    std::fs::write(&path, "{\"svc\": [1,").expect("write");
    assert!(LastKnownGood::open(&path).is_err());
}

/// The write blocks in the kernel (its temporary file is a FIFO nobody
/// reads) while a one-thread runtime goes on running other tasks.
#[test]
fn writing_the_file_never_blocks_the_runtime_thread() {
    use std::sync::atomic::{AtomicU8, Ordering};
    const RUNNING: u8 = 0;
    const PROGRESSED: u8 = 1;
    const GAVE_UP: u8 = 2;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lkg.json");
    let fifo = path.with_extension("tmp");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let state = Arc::new(AtomicU8::new(RUNNING));
    // Should the runtime thread block, nothing marks progress: this opens
    // the FIFO's other end after a while, so the test ends, and fails.
    let watchdog = {
        let (fifo, state) = (fifo.clone(), state.clone());
        std::thread::spawn(move || {
            for _ in 0..200 {
                if state.load(Ordering::SeqCst) == PROGRESSED {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let swap = state.compare_exchange(RUNNING, GAVE_UP, Ordering::SeqCst, Ordering::SeqCst);
            if swap.is_ok() {
                let _ = std::fs::File::open(&fifo);
            }
        })
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let file = LkgFile::new(&path);
        let writing = tokio::spawn(async move { file.write(|| Ok(b"{}".to_vec())).await });
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        let swap = state.compare_exchange(RUNNING, PROGRESSED, Ordering::SeqCst, Ordering::SeqCst);
        if swap.is_ok() {
            // Let the write finish: read the FIFO, so its open returns.
            let reader = tokio::task::spawn_blocking(move || {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::fs::File::open(&fifo)?, &mut text)?;
                Ok::<_, std::io::Error>(text)
            });
            let _ = reader.await;
        }
        let _ = writing.await;
    });
    watchdog.join().expect("watchdog");
    assert_eq!(
        state.load(Ordering::SeqCst),
        PROGRESSED,
        "the runtime thread was blocked by the write"
    );
}
