//! `arqonbus-chaos run`: one chaos run from start to verdict. Starts the
//! cluster (node processes, or the compose file's containers), sets up the
//! chaos targets, runs the workload and the nemesis together for
//! `--duration`, heals everything, waits until the nodes agree, then checks
//! the history for linearizability and every node's audit chain, and
//! writes the summary.
//! Any violation, an undecided check, or a fault that could not be
//! injected makes the exit code non-zero; nothing is skipped.

mod args;

use args::arqonbus_binary;
pub use args::RunArgs;

use crate::cluster::{run_cli, Cluster};
use crate::nemesis::{self, NemesisReport};
use crate::proposals::{ProposalOptions, ProposalWorkload, PROPOSAL_TARGET};
use crate::recorder::Recorder;
use crate::report::{self, Status};
use crate::rng::Rng;
use crate::rollouts::{RolloutOptions, RolloutWorkload};
use crate::session_watch::SessionWatch;
use crate::summary::{self, Summary};
use crate::workload::{self, Workload, WorkloadOptions, PARAMS_PER_TARGET};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Exit codes of `run` (`check`'s are in the README).
pub mod exit {
    pub const PASSED: u8 = 0;
    pub const VIOLATION: u8 = 1;
    pub const UNKNOWN: u8 = 3;
    /// The harness could not do its job (setup failed, a fault could not
    /// be injected): the run proves nothing, so it fails.
    pub const HARNESS: u8 = 5;
}

/// Runs the whole thing; the exit code.
pub async fn run(args: RunArgs) -> u8 {
    let seed = args.seed.unwrap_or_else(Rng::seed_from_clock);
    let started = Instant::now();
    let mut summary = Summary {
        verdict: "FAILED",
        exit_code: exit::HARNESS,
        seed,
        duration_s: 0.0,
        arqonbus: String::new(),
        backend: String::new(),
        faults_by_kind: Default::default(),
        nemesis: NemesisReport::default(),
        elections: Default::default(),
        elections_by_cause: Default::default(),
        operations: Default::default(),
        proposals: Default::default(),
        rollouts: Default::default(),
        proposer_session: Default::default(),
        linearizability: "not checked".into(),
        converged_applied_index: None,
        audit: Vec::new(),
        terms_with_a_leader: 0,
        violations: Vec::new(),
        errors: Vec::new(),
    };
    let mut cluster = None;
    let mut unknown = false;
    if let Err(e) = execute(&args, seed, &mut summary, &mut cluster, &mut unknown).await {
        summary.errors.push(format!("{e:#}"));
    }
    if let Some(c) = cluster.as_mut() {
        c.stop().await;
    }
    summary.duration_s = started.elapsed().as_secs_f64();
    let (verdict, code) = if !summary.violations.is_empty() {
        ("VIOLATION", exit::VIOLATION)
    } else if !summary.errors.is_empty() {
        ("HARNESS ERROR", exit::HARNESS)
    } else if unknown {
        ("UNKNOWN", exit::UNKNOWN)
    } else {
        ("PASSED", exit::PASSED)
    };
    summary.verdict = verdict;
    summary.exit_code = code;
    print!("{}", summary.render());
    let json = serde_json::to_string_pretty(&summary)
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    if let Err(e) = std::fs::write(args.out.join("summary.json"), json + "\n") {
        eprintln!("arqonbus-chaos: cannot write summary.json: {e}");
        return exit::HARNESS.max(code);
    }
    code
}

async fn execute(
    args: &RunArgs,
    seed: u64,
    summary: &mut Summary,
    slot: &mut Option<Cluster>,
    unknown: &mut bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.clients > 0
            && args.rate > 0.0
            && args.interval > 0.0
            && args.proposal_rate > 0.0
            && args.degraded_bound > 0.0,
        "--clients, --rate, --proposal-rate, --interval and --degraded-bound must be positive"
    );
    let exe = arqonbus_binary(args.arqonbus.as_deref())?;
    summary.arqonbus = exe.display().to_string();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let out = args.out.canonicalize()?;
    anyhow::ensure!(
        !out.join("certs").exists(),
        "{} holds an earlier run; use a fresh --out",
        out.display()
    );
    let mut rng = Rng::new(seed);
    let duration = Duration::from_secs(args.duration);
    let nemesis_options = args.nemesis_options();
    let schedule = nemesis::plan(duration, &nemesis_options, &mut rng);
    let setup = args.setup(&schedule);

    let cluster = slot.insert(Cluster::start(&setup, &exe, &out).await?);
    summary.backend = cluster.describe();
    let targets = setup_targets(cluster, &out, args).await?;
    let rollout_targets = setup_rollout_targets(cluster, args.rollout_targets).await?;

    let start = Instant::now();
    let recorder = Arc::new(Recorder::create(&out.join("history.jsonl"), start)?);
    let session = SessionWatch::start(cluster.access(), &out, start)?;
    let options = WorkloadOptions {
        clients: args.clients,
        rate: args.rate,
        ops_per_key: args.ops_per_key,
        targets,
        request_timeout: Duration::from_secs(5),
        retry_budget: Duration::from_secs(5),
    };
    let workload = Workload::start(
        options,
        (cluster.access(), "operator"),
        recorder.clone(),
        &mut rng,
    )?;
    let proposal_options = ProposalOptions {
        proposers: args.proposers,
        rate: args.proposal_rate,
        target: PROPOSAL_TARGET.into(),
        // A short retry budget, so that a failover often leaves a proposal
        // with an unknown outcome for the workload to re-send.
        request_timeout: Duration::from_secs(2),
        retry_budget: Duration::from_secs(1),
        resend_bound: Duration::from_secs(args.resend_bound),
        duplicate_percent: 10,
    };
    let proposing = ProposalWorkload::start(
        proposal_options,
        (cluster.access(), "proposer"),
        recorder.clone(),
        &mut rng,
    )?;
    let rollout_options = RolloutOptions {
        targets: rollout_targets.clone(),
        request_timeout: Duration::from_secs(2),
        retry_budget: Duration::from_secs(2),
        resend_bound: Duration::from_secs(args.resend_bound),
    };
    let rolling = RolloutWorkload::start(rollout_options, cluster.access(), recorder, &mut rng)?;
    let end = start + duration;
    let report = nemesis::run(cluster, schedule, &nemesis_options, (start, end), &mut rng).await;
    let now = Instant::now();
    if now < end {
        tokio::time::sleep(end - now).await;
    }
    summary.violations.extend(report.violations.iter().cloned());
    summary.errors.extend(report.errors.iter().cloned());
    summary.faults_by_kind = Summary::faults_by_kind(&report);
    summary.elections = summary::elections(&report.faults);
    summary.elections_by_cause = summary::elections_by_cause(&report.faults);
    summary.nemesis = report;
    // The workloads stop before healing, so the end state is settled. A
    // proposal being re-sent may take up to --resend-bound to settle.
    let resend_bound = Duration::from_secs(args.resend_bound + 15);
    let (registers, proposed, rolled) = tokio::join!(
        workload.stop(Duration::from_secs(30)),
        proposing.stop(resend_bound),
        rolling.stop(resend_bound)
    );
    let (submitted, abandoned_proposers) = proposed?;
    let abandoned = registers? + abandoned_proposers + rolled?;
    if abandoned > 0 {
        eprintln!("arqonbus-chaos: {abandoned} workload tasks were still waiting at the end");
    }
    cluster.heal().await?;
    summary.violations.extend(cluster.exited().await);
    match crate::rollouts::settle(cluster.access(), &rollout_targets).await {
        Ok(rolled) if !rolled.is_empty() => {
            eprintln!(
                "arqonbus-chaos: rollouts still in progress at the end rolled back: {rolled:?}"
            )
        }
        Ok(_) => {}
        Err(e) => summary.errors.push(e),
    }
    match converge(cluster, Duration::from_secs(args.converge_bound)).await {
        Ok(index) => summary.converged_applied_index = Some(index),
        Err(e) => summary.violations.push(e),
    }
    let faults = &summary.nemesis.faults;
    let (watched, violations) = session.finish(faults, args.degraded_bound).await;
    summary.proposer_session = watched;
    summary.violations.extend(violations);

    check_results(cluster, &out, args.max_states, &submitted, summary, unknown).await?;
    check_rollouts(
        cluster,
        &out,
        &rollout_targets,
        args.breach_bound(),
        summary,
    )
    .await
}

/// The rollout checks (`rollout_check.rs`), after `check_results` fetched
/// every node's audit chain.
async fn check_rollouts(
    cluster: &Cluster,
    out: &Path,
    targets: &[String],
    bound: Duration,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let text = std::fs::read_to_string(out.join("history.jsonl"))?;
    let events =
        crate::history::read_history(text.as_bytes()).context("reading back the history")?;
    let (statuses, errors) =
        crate::rollout_check::fetch_statuses(cluster.status_client(), targets).await;
    summary.violations.extend(errors);
    let end = crate::rollout_check::EndState {
        audit: summary
            .audit
            .iter()
            .map(|c| (c.node, c.rollout_entries.clone()))
            .collect(),
        statuses,
    };
    let (figures, violations) =
        crate::rollout_check::check(&events, &end, targets.len() as u64, bound);
    summary.rollouts = figures;
    summary.violations.extend(violations);
    Ok(())
}

/// The rollout targets, each with the rollout constraints (format 2, set
/// through the workflow as an operator).
async fn setup_rollout_targets(cluster: &Cluster, count: u64) -> anyhow::Result<Vec<String>> {
    use arqonbus_proto::workflow::{WorkflowReply, WorkflowRequest};
    let mut targets = Vec::new();
    if count == 0 {
        return Ok(targets);
    }
    let operator = crate::tasks::client(
        cluster.access(),
        "operator",
        Duration::from_secs(5),
        Duration::from_secs(20),
    )?;
    for target in (0..count).map(crate::rollouts::target_name) {
        let set = WorkflowRequest::SetConstraints {
            target_system: target.clone(),
            text: crate::rollouts::constraints_toml(),
            force: false,
        };
        match operator.workflow(set).await {
            Ok(WorkflowReply::ConstraintsSet { .. }) => targets.push(target),
            other => anyhow::bail!("setting the rollout constraints of {target}: {other:?}"),
        }
    }
    Ok(targets)
}

/// The checks on what the run left: the history's figures and
/// linearizability, every node's audit chain, and every proposal on every
/// node.
async fn check_results(
    cluster: &Cluster,
    out: &Path,
    max_states: u64,
    submitted: &crate::proposals::Submissions,
    summary: &mut Summary,
    unknown: &mut bool,
) -> anyhow::Result<()> {
    let history = out.join("history.jsonl");
    let text = std::fs::read_to_string(&history)?;
    let events =
        crate::history::read_history(text.as_bytes()).context("reading back the history")?;
    summary.operations = summary::history_figures(&events);
    summary.proposals = crate::proposal_check::figures(&events, submitted);
    let checked =
        report::check_history(text.as_bytes(), max_states).context("checking the history")?;
    summary.linearizability = checked
        .render(&history.display().to_string())
        .trim_end()
        .to_string();
    match checked.status() {
        Status::Linearizable => {}
        Status::Unknown => *unknown = true,
        Status::NotLinearizable => summary
            .violations
            .push("the register history is not linearizable".into()),
    }
    let nodes: Vec<(u64, String)> = (1..=crate::cluster::NODES)
        .map(|id| Ok((id, cluster.endpoint(id)?.to_string())))
        .collect::<anyhow::Result<_>>()?;
    let (chains, violations) =
        crate::audit_check::verify_all(cluster.status_client(), &nodes).await;
    summary.audit = chains;
    summary.violations.extend(violations);
    let client = cluster.status_client();
    let violations = crate::proposal_check::verify(client, &nodes, submitted).await;
    summary.violations.extend(violations);
    cluster.save_logs().await;
    let logs = crate::terms_check::read_logs(out, crate::cluster::NODES);
    let (terms, violations) = crate::terms_check::check(&logs);
    summary.terms_with_a_leader = terms;
    summary.violations.extend(violations);
    Ok(())
}

/// Enough chaos targets for the run's operations (with room to spare).
async fn setup_targets(
    cluster: &Cluster,
    out: &Path,
    args: &RunArgs,
) -> anyhow::Result<Vec<String>> {
    let ops = args.rate * args.duration as f64 * 1.5 + 1000.0;
    let keys = (ops / args.ops_per_key.max(1) as f64).ceil() as u64;
    let count = keys.div_ceil(PARAMS_PER_TARGET).max(1);
    let file = out.join("constraints.toml");
    std::fs::write(&file, workload::constraints_toml())?;
    let file = file.display().to_string();
    let mut targets = Vec::new();
    let names = (0..count).map(workload::target_name);
    for target in names.chain([PROPOSAL_TARGET.to_string()]) {
        let mut cli = cluster.access().cli_args("operator");
        let set = ["constraints", "set", "--target", &target, "--file", &file];
        cli.extend(set.map(String::from));
        run_cli(cluster.exe(), &cli, &out.join("setup.log")).await?;
        if target != PROPOSAL_TARGET {
            targets.push(target);
        }
    }
    Ok(targets)
}

/// Waits until every node answers with the same applied index.
async fn converge(cluster: &Cluster, bound: Duration) -> Result<u64, String> {
    let start = Instant::now();
    loop {
        let statuses = cluster.statuses().await;
        let applied: Vec<Option<u64>> = statuses
            .iter()
            .map(|(_, s)| s.as_ref().and_then(|s| s.last_applied))
            .collect();
        if applied.len() == crate::cluster::NODES as usize
            && applied.iter().all(|a| a.is_some() && *a == applied[0])
        {
            if let Some(Some(index)) = applied.first() {
                return Ok(*index);
            }
        }
        if start.elapsed() > bound {
            return Err(format!(
                "the healed nodes did not agree on an applied index within {bound:?}: {applied:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
