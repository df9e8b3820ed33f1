#!/usr/bin/env python3
"""An independent reading of PROTOCOL.md, written from its tables alone.

Decodes every golden vector in proto/vectors/ (frame header, LZ4 block,
bincode values, every message type's fields in the spec's order), turns
it into the JSON view of PROTOCOL.md section 10, and requires it to equal
the vector's .json file. Recomputes the audit chain of every
`audit_entries` vector with the hash of section 6.13.1, from genesis to
its head, and verifies the Ed25519 signature a signed (format-2) entry
keeps. Python 3 standard library only, except the signatures: they are
checked when the `cryptography` package is installed, and said so.

    python3 proto/read_vectors.py [VECTOR_DIR]

Prints one line per vector; exits 1 if any vector fails.
"""

import datetime
import hashlib
import json
import math
import pathlib
import struct
import sys


class Malformed(Exception):
    """The bytes break a rule of the spec."""


# ---- Section 4: the bincode encoding --------------------------------------


class Reader:
    """Reads one body. `audit` collects audit entries for the chain check."""

    def __init__(self, data):
        self.data = data
        self.at = 0
        self.audit = []

    def take(self, n):
        if self.at + n > len(self.data):
            raise Malformed(f"body ends at byte {len(self.data)}, needed {self.at + n}")
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk

    def u8(self):
        return self.take(1)[0]

    def uint(self, bits):
        """A varint of a u16, u32 or u64 field, in its shortest form."""
        first = self.u8()
        if first <= 250:
            return first
        widths = {0xFB: 16, 0xFC: 32, 0xFD: 64}
        width = widths.get(first)
        if width is None or width > bits:
            raise Malformed(f"varint marker {first:#x} in a u{bits} field")
        value = int.from_bytes(self.take(width // 8), "little")
        shortest = 250 if width == 16 else (1 << (width // 2)) - 1
        if value <= shortest:
            raise Malformed(f"varint {value} not in its shortest form")
        return value

    def i64(self):
        z = self.uint(64)
        return (z >> 1) ^ -(z & 1)

    def f64(self):
        (value,) = struct.unpack("<d", self.take(8))
        if not math.isfinite(value):
            raise Malformed("a float is not finite")
        return value

    def boolean(self):
        b = self.u8()
        if b > 1:
            raise Malformed(f"bool byte {b}")
        return b == 1

    def string(self):
        return self.take(self.uint(64)).decode("utf-8")

    def byte_string(self):
        return self.take(self.uint(64))


U8 = Reader.u8
U32 = lambda r: r.uint(32)
U64 = lambda r: r.uint(64)
I64 = Reader.i64
F64 = Reader.f64
BOOL = Reader.boolean
TEXT = Reader.string  # name, label and text all encode as strings


def timestamp(r):
    """UnixMillis (an i64) in its JSON form: RFC 3339, .mmm only if needed."""
    return rfc3339(r.i64())


def rfc3339(ms):
    if not 0 <= ms <= 253402300799999:
        raise Malformed(f"timestamp {ms} out of range")
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ms % 1000:03d}" if ms % 1000 else "") + "Z"


def option(inner):
    def read(r):
        tag = r.u8()
        if tag > 1:
            raise Malformed(f"option tag {tag}")
        return inner(r) if tag else None

    return read


def seq(inner):
    return lambda r: [inner(r) for _ in range(r.uint(64))]


def mapping(value):
    """A map with string keys, ascending byte-wise, no duplicates."""

    def read(r):
        out, last = {}, None
        for _ in range(r.uint(64)):
            key = r.string()
            if last is not None and key.encode() <= last.encode():
                raise Malformed(f"map key {key!r} out of order")
            out[key], last = value(r), key
        return out

    return read


def record(*fields):
    """A struct: its fields in order, nothing else."""
    return lambda r: {name: read(r) for name, read in fields}


def names(*variants):
    """An enum without fields, in JSON its snake_case name."""

    def read(r):
        index = r.uint(32)
        if index >= len(variants):
            raise Malformed(f"variant {index} of {variants}")
        return variants[index]

    return read


def tagged(key, variants):
    """An enum with fields: {key: name, fields...}. `variants` is a list of
    (name, reader of the fields as a dict)."""

    def read(r):
        index = r.uint(32)
        if index >= len(variants):
            raise Malformed(f"variant {index} of {[n for n, _ in variants]}")
        name, fields = variants[index]
        return {key: name, **fields(r)}

    return read


NONE = lambda r: {}


def param_value(r):
    """ParamValue: 0 int (i64), 1 float (f64), 2 enum (string), 3 bool."""
    return [I64, F64, TEXT, BOOL][names(0, 1, 2, 3)(r)](r)


# ---- Sections 5 and 6: the envelope and the messages ----------------------

ENVELOPE = record(
    ("session", U64),
    ("seq", U64),
    ("sent_at", timestamp),
    ("signature", option(record(("scheme", names("ed25519")), ("bytes", lambda r: r.byte_string().hex())))),
)

METRICS = mapping(F64)
PARAMETERS = mapping(param_value)


def context(r):
    """TelemetryContext; in JSON an absent field is left out."""
    fields = record(
        ("request_class", option(TEXT)),
        ("hardware", option(TEXT)),
        ("load_factor", option(F64)),
    )(r)
    return {k: v for k, v in fields.items() if v is not None}


TELEMETRY_SAMPLE = record(
    ("timestamp", timestamp),
    ("source", TEXT),
    ("target_system", TEXT),
    ("metrics", METRICS),
    ("parameters", PARAMETERS),
    ("context", context),
    ("cohort", names("baseline", "candidate")),
)
TELEMETRY_BATCH = record(("samples", seq(TELEMETRY_SAMPLE)))

PROPOSAL = record(
    ("proposal_id", TEXT),
    ("source", TEXT),
    ("target_system", TEXT),
    ("timestamp", timestamp),
    (
        "changes",
        seq(
            record(
                ("parameter", TEXT),
                ("current_value", param_value),
                ("proposed_value", param_value),
                ("reason", TEXT),
            )
        ),
    ),
    ("expected_impact", METRICS),
    ("confidence", F64),
    ("duration_seconds", U64),
)

SUBSCRIBE = record(("targets", seq(record(("target_system", TEXT), ("from_seq", option(U64))))))
STATUS_QUERY = record(("proposal_id", TEXT))

HEAD = (("proposal_id", TEXT), ("target_system", TEXT), ("source", TEXT), ("timestamp", timestamp))
DECISION = names("approved", "partially_approved", "rejected", "pending_approval")

APPROVAL = record(
    *HEAD,
    ("decision", DECISION),
    (
        "approved_changes",
        seq(
            record(
                ("parameter", TEXT),
                ("approved_value", param_value),
                ("rollout_schedule", names("immediate", "gradual")),
                ("max_change_rate", F64),
            )
        ),
    ),
    (
        "rejected_changes",
        seq(
            record(
                ("parameter", TEXT),
                ("reason", TEXT),
                ("constraint_violated", option(TEXT)),
                # ALLOWED is defined with the workflow types, below.
                ("allowed", option(lambda r: ALLOWED(r))),
            )
        ),
    ),
    ("enforcement_mode", names("monitored", "shadow")),
    ("rollback_timeout", U64),
)

STATUS = record(
    *HEAD,
    ("status", names("pending_approval", "active", "steady", "rejected", "rolled_back", "expired")),
    (
        "progress",
        record(
            ("rollout_percentage", U8),
            ("monitoring_duration", U64),
            ("constraint_violations", U32),
        ),
    ),
    ("observed_impact", METRICS),
)

ROLLBACK_REASON = names("constraint_violation", "baseline_regression", "operator", "missing_telemetry")
ROLLBACK = record(
    *HEAD,
    ("reason", ROLLBACK_REASON),
    ("triggered_constraint", option(TEXT)),
    ("triggered_value", option(F64)),
    ("allowed_value", option(F64)),
    ("rollback_action", names("immediate", "gradual")),
    ("parameters_to_restore", PARAMETERS),
)

EVENT = record(
    ("target_system", TEXT),
    ("seq", U64),
    ("event", tagged("type", [("approval", APPROVAL), ("status", STATUS), ("rollback", ROLLBACK)])),
)

ERROR = record(
    (
        "error",
        tagged(
            "code",
            [
                ("not_leader", record(("leader_id", option(U64)), ("leader_addr", option(TEXT)))),
                ("no_leader", NONE),
                ("no_quorum", NONE),
                ("unauthenticated", NONE),
                ("forbidden", NONE),
                ("rate_limited", record(("retry_after_ms", U64))),
                ("replay", record(("last_seq", U64))),
                ("stale_timestamp", record(("server_time", timestamp), ("max_skew_ms", U64))),
                ("invalid_message", record(("field", TEXT), ("reason", TEXT))),
                ("too_large", record(("size", U64), ("limit", U64))),
                ("unsupported_version", record(("received", U8), ("supported", seq(U8)))),
                ("conflict", record(("proposal_id", TEXT))),
                ("resync_required", record(("target_system", TEXT), ("oldest_seq", U64))),
                ("outcome_unknown", NONE),
                ("reserved_14", NONE),
                ("reserved_15", NONE),
                ("unknown_proposal", record(("proposal_id", TEXT))),
                ("not_pending", record(("proposal_id", TEXT), ("status", TEXT))),
                ("self_approval", record(("proposal_id", TEXT))),
                ("already_approved", record(("proposal_id", TEXT))),
                ("not_an_approver", record(("identity", TEXT))),
                ("active_proposal", record(("proposal_id", TEXT))),
                ("live_out_of_bounds", record(("parameters", seq(TEXT)))),
                ("reserved_23", NONE),
                ("no_rollout", record(("target_system", TEXT))),
            ],
        ),
    ),
    ("message", TEXT),
)

TELEMETRY_ACK = record(("accepted", U32), ("rejected", U32))
SUBSCRIBED = record(("streams", seq(record(("target_system", TEXT), ("next_seq", U64)))))

# ---- Section 6.12 and 6.13: operate and operated --------------------------

CONSTRAINTS = mapping(
    tagged(
        "kind",
        [
            ("int", record(("min", I64), ("max", I64), ("default", I64))),
            ("float", record(("min", F64), ("max", F64), ("default", F64))),
            ("enum", record(("values", seq(TEXT)), ("default", TEXT))),
            ("bool", record(("default", BOOL))),
        ],
    )
)
MEMBER = record(("node_id", U64), ("addr", TEXT))

OPERATE = tagged(
    "action",
    [
        ("set_constraints", record(("target_system", TEXT), ("constraints", CONSTRAINTS))),
        ("get_constraints", record(("target_system", TEXT), ("stale", BOOL))),
        (
            "set_parameters",
            record(("target_system", TEXT), ("values", PARAMETERS), ("expected", option(PARAMETERS))),
        ),
        ("get_parameters", record(("target_system", TEXT), ("stale", BOOL))),
        ("audit_range", record(("from_index", U64), ("limit", U32), ("stale", BOOL))),
        ("node_status", NONE),
        ("cluster_init", record(("members", seq(MEMBER)))),
        ("add_node", record(("member", MEMBER))),
        ("remove_node", record(("node_id", U64))),
        ("list_proposals", record(("target_system", option(TEXT)), ("limit", U32), ("stale", BOOL))),
        ("show_proposal", record(("proposal_id", TEXT), ("stale", BOOL))),
    ],
)


# A signed entry's seal: the signer's key, the signature, the bytes signed.
SEAL = record(("key", Reader.byte_string), ("signature", Reader.byte_string), ("signed", Reader.byte_string))


def audit_entry(r):
    """AuditEntry; kept raw for the chain check, `at` in JSON."""
    e = record(
        ("index", U64),
        ("at_ms", U64),
        ("actor", TEXT),
        ("action", TEXT),
        ("target", TEXT),
        ("details", TEXT),
        ("prev_hash", lambda r: r.take(32)),
        ("hash", lambda r: r.take(32)),
        ("seal", option(SEAL)),
    )(r)
    r.audit.append(e)
    view = {k: v for k, v in e.items() if k not in ("at_ms", "seal")}
    view = {**view, "at": rfc3339(e["at_ms"]), "prev_hash": e["prev_hash"].hex(), "hash": e["hash"].hex()}
    if e["seal"] is not None:
        view["seal"] = {k: v.hex() for k, v in e["seal"].items()}
    return view


NODE_STATUS = record(
    ("node_id", U64),
    ("advertise", TEXT),
    ("role", names("leader", "follower", "learner", "candidate", "shutdown")),
    ("term", U64),
    ("leader_id", option(U64)),
    ("last_log_index", option(U64)),
    ("last_applied", option(U64)),
    ("voters", seq(MEMBER)),
    ("learners", seq(MEMBER)),
)

OPERATED = tagged(
    "result",
    [
        ("constraints", record(("target_system", TEXT), ("version", U64), ("constraints", CONSTRAINTS))),
        ("constraints_set", record(("target_system", TEXT), ("version", U64), ("out_of_bounds", seq(TEXT)))),
        (
            "parameters",
            record(("target_system", TEXT), ("live", PARAMETERS), ("last_known_good", PARAMETERS)),
        ),
        ("parameters_set", record(("target_system", TEXT), ("values", PARAMETERS))),
        (
            "refused",
            record(
                ("reason", TEXT),
                ("violations", seq(record(("parameter", TEXT), ("constraint", TEXT), ("reason", TEXT)))),
            ),
        ),
        ("audit_entries", record(("entries", seq(audit_entry)), ("head_index", U64))),
        ("node_status", NODE_STATUS),
        ("done", record(("message", TEXT))),
        (
            "proposals",
            record(
                (
                    "proposals",
                    seq(
                        record(
                            ("proposal_id", TEXT),
                            ("target_system", TEXT),
                            ("timestamp", timestamp),
                            ("decision", DECISION),
                            ("approved", U32),
                            ("rejected", U32),
                        )
                    ),
                )
            ),
        ),
        ("proposal", record(("approval", APPROVAL), ("status", STATUS))),
    ],
)

# ---- Section 6.14: workflow and workflowed (serde's external enum form) ---


def ext(variants):
    """An enum as serde writes it in JSON: a unit variant is its name,
    any other {Name: its fields (or value)}. `variants` lists (name, reader
    or None for a unit variant) by variant index."""

    def read(r):
        index = r.uint(32)
        if index >= len(variants):
            raise Malformed(f"variant {index} of {[n for n, _ in variants]}")
        name, fields = variants[index]
        return name if fields is None else {name: fields(r)}

    return read


SERDE_VALUE = ext([("Int", I64), ("Float", F64), ("Enum", TEXT), ("Bool", BOOL)])
SERDE_PARAMETERS = mapping(SERDE_VALUE)
SERDE_CONSTRAINTS = record(
    (
        "parameters",
        mapping(
            ext(
                [
                    ("Int", record(("min", I64), ("max", I64), ("default", I64))),
                    ("Float", record(("min", F64), ("max", F64), ("default", F64))),
                    ("Enum", record(("values", seq(TEXT)), ("default", TEXT))),
                    ("Bool", record(("default", BOOL))),
                ]
            )
        ),
    )
)
VIOLATION = record(("parameter", TEXT), ("constraint", TEXT), ("reason", TEXT))
ALLOWED = ext(
    [
        ("Range", record(("min", F64), ("max", F64))),
        ("Values", seq(SERDE_VALUE)),
        ("Step", record(("max_step_abs", option(F64)), ("max_step_rel", option(F64)))),
        ("Quarantine", record(("until", I64), ("distance", F64))),
    ]
)
PROPOSAL_DETAIL = record(
    ("proposal_id", TEXT),
    ("target_system", TEXT),
    ("proposer", TEXT),
    ("decided_at", I64),
    ("decision", DECISION),
    ("status", names("pending_approval", "active", "steady", "rejected", "rolled_back", "expired")),
    ("constraints_version", U64),
    ("approved", SERDE_PARAMETERS),
    ("pending", SERDE_PARAMETERS),
    (
        "rejected",
        seq(
            record(
                ("parameter", TEXT),
                ("reason", TEXT),
                ("constraint_violated", TEXT),
                ("allowed", option(ALLOWED)),
            )
        ),
    ),
    ("required_approvals", U32),
    ("approvals", seq(record(("identity", TEXT), ("reason", TEXT), ("at", I64)))),
    ("expires_at", option(I64)),
    ("closed_by", option(TEXT)),
    ("closed_reason", option(TEXT)),
)
WORKFLOW = record(
    (
        "request",
        ext(
            [
                ("SetConstraints", record(("target_system", TEXT), ("text", TEXT), ("force", BOOL))),
                ("GetConstraints", record(("target_system", TEXT), ("version", option(U64)), ("stale", BOOL))),
                (
                    "SetParameters",
                    record(
                        ("target_system", TEXT),
                        ("values", SERDE_PARAMETERS),
                        ("expected", option(SERDE_PARAMETERS)),
                        ("force", BOOL),
                    ),
                ),
                ("ListPending", record(("target_system", option(TEXT)), ("stale", BOOL))),
                ("Approve", record(("proposal_id", TEXT), ("reason", TEXT))),
                ("Reject", record(("proposal_id", TEXT), ("reason", TEXT))),
                ("ShowProposal", record(("proposal_id", TEXT), ("stale", BOOL))),
                ("Rollback", record(("target_system", TEXT), ("reason", TEXT))),
            ]
        ),
    )
)
WORKFLOWED = record(
    (
        "reply",
        ext(
            [
                (
                    "ConstraintsSet",
                    record(("target_system", TEXT), ("version", U64), ("out_of_bounds", seq(TEXT)), ("forced", BOOL)),
                ),
                (
                    "Constraints",
                    record(
                        ("target_system", TEXT),
                        ("version", U64),
                        ("current_version", U64),
                        ("constraints", SERDE_CONSTRAINTS),
                        ("policy", TEXT),
                    ),
                ),
                ("ParametersSet", record(("target_system", TEXT), ("values", SERDE_PARAMETERS), ("forced", BOOL))),
                ("Proposals", record(("proposals", seq(PROPOSAL_DETAIL)))),
                ("Proposal", PROPOSAL_DETAIL),
                (
                    "RolledBack",
                    record(
                        ("target_system", TEXT),
                        ("proposal_id", TEXT),
                        ("quarantined", SERDE_PARAMETERS),
                        ("quarantine_until", I64),
                    ),
                ),
                ("Refused", record(("reason", TEXT), ("violations", seq(VIOLATION)))),
            ]
        ),
    )
)

# ---- Section 6.15: gradual rollouts ---------------------------------------

WATCH_ASSIGNMENT = record(("target_system", TEXT))
TAGGED_TELEMETRY = record(("samples", seq(record(("epoch", U64), ("sample", TELEMETRY_SAMPLE)))))
ROLLOUT = tagged(
    "action",
    [
        ("status", record(("target_system", TEXT), ("stale", BOOL))),
        ("pause", record(("target_system", TEXT), ("reason", TEXT))),
        ("resume", record(("target_system", TEXT), ("reason", TEXT))),
        ("promote", record(("target_system", TEXT), ("full", BOOL), ("reason", TEXT))),
    ],
)
ASSIGNMENT = record(
    ("target_system", TEXT),
    ("epoch", U64),
    ("proposal_id", option(TEXT)),
    ("phase", TEXT),
    ("share", U8),
    ("baseline", PARAMETERS),
    ("candidate", option(PARAMETERS)),
)
VERDICT_CLASS = names("pass", "marginal", "inconclusive", "fail")
ROLLOUT_STATUS = record(
    ("target_system", TEXT),
    ("epoch", U64),
    (
        "rollout",
        option(
            record(
                ("proposal_id", TEXT),
                ("phase", TEXT),
                ("phase_index", U32),
                ("phases", U32),
                ("share", U8),
                ("phase_started", timestamp),  # phase_started_ms on the wire
                ("paused", BOOL),
                ("violations", U32),
                ("observed_impact", METRICS),
            )
        ),
    ),
    (
        "recent_rollbacks",
        seq(
            record(
                ("proposal_id", TEXT),
                ("reason", ROLLBACK_REASON),
                ("triggered_constraint", option(TEXT)),
                ("at", timestamp),  # at_ms on the wire
            )
        ),
    ),
    (
        "recent_verdicts",
        seq(
            record(
                ("proposal_id", TEXT),
                ("class", VERDICT_CLASS),
                ("reason", TEXT),
                ("at", timestamp),  # at_ms on the wire
                (
                    "metrics",
                    seq(
                        record(
                            ("metric", TEXT),
                            ("class", VERDICT_CLASS),
                            ("reason", TEXT),
                            ("candidate_samples", U64),
                            ("baseline_samples", U64),
                            ("candidate_median", option(F64)),
                            ("baseline_median", option(F64)),
                            ("p_value", option(F64)),
                            ("rank_biserial", option(F64)),
                        )
                    ),
                ),
            )
        ),
    ),
)

# Section 6: type code -> (name, body). Requests carry the envelope first.
MESSAGES = {
    0x01: ("telemetry_batch", TELEMETRY_BATCH),
    0x02: ("proposal", PROPOSAL),
    0x03: ("subscribe", SUBSCRIBE),
    0x04: ("status_query", STATUS_QUERY),
    0x10: ("operate", OPERATE),
    0x20: ("workflow", WORKFLOW),
    0x30: ("watch_assignment", WATCH_ASSIGNMENT),
    0x31: ("tagged_telemetry", TAGGED_TELEMETRY),
    0x32: ("rollout", ROLLOUT),
    0x80: ("error", ERROR),
    0x81: ("telemetry_ack", TELEMETRY_ACK),
    0x82: ("approval", APPROVAL),
    0x83: ("status", STATUS),
    0x84: ("rollback", ROLLBACK),
    0x85: ("subscribed", SUBSCRIBED),
    0x86: ("event", EVENT),
    0x90: ("operated", OPERATED),
    0xA0: ("workflowed", WORKFLOWED),
    0xB0: ("assignment", ASSIGNMENT),
    0xB1: ("rollout_status", ROLLOUT_STATUS),
}

# ---- Section 3: the frame -------------------------------------------------


def lz4_block(block, size):
    """Decompresses one LZ4 block (not an LZ4 frame) of `size` bytes."""
    out, i = bytearray(), 0

    def length(n):
        nonlocal i
        if n == 15:
            while True:
                b = block[i]
                i += 1
                n += b
                if b != 255:
                    break
        return n

    while i < len(block):
        token = block[i]
        i += 1
        literals = length(token >> 4)
        out += block[i : i + literals]
        i += literals
        if i >= len(block):
            break
        offset = block[i] | block[i + 1] << 8
        i += 2
        if not 0 < offset <= len(out):
            raise Malformed(f"LZ4 offset {offset}")
        for _ in range(length(token & 15) + 4):
            out.append(out[-offset])
    if len(out) != size:
        raise Malformed(f"LZ4 block gives {len(out)} bytes, raw_len says {size}")
    return bytes(out)


def read_frame(frame):
    """A whole frame -> (its JSON view, the audit entries it carries)."""
    if len(frame) < 7:
        raise Malformed("shorter than a frame header")
    length = int.from_bytes(frame[:4], "little")
    if length != len(frame) - 4 or not 3 <= length <= 4194304:
        raise Malformed(f"length {length} for {len(frame)} bytes")
    version, flags, code = frame[4], frame[5], frame[6]
    if version != 2 or flags & 0xFE:
        raise Malformed(f"version {version}, flags {flags:#x}")
    body = frame[7:]
    if flags & 1:
        raw_len = int.from_bytes(body[:4], "little")
        if raw_len > 16777216 or raw_len > 255 * len(body[4:]):
            raise Malformed(f"raw_len {raw_len}")
        body = lz4_block(body[4:], raw_len)
    name, read_body = MESSAGES[code]
    r = Reader(body)
    view = {}
    if code < 0x80:
        view["envelope"] = ENVELOPE(r)
        if view["envelope"]["signature"] is None:
            del view["envelope"]["signature"]
    view["message"] = {"type": name, **read_body(r)}
    if r.at != len(body):
        raise Malformed(f"{len(body) - r.at} bytes after the message")
    return view, r.audit


# ---- Section 6.13.1: the audit hash chain ---------------------------------


def hash_input(e):
    def text(s):
        b = s.encode("utf-8")
        return len(b).to_bytes(8, "big") + b

    def blob(b):
        return len(b).to_bytes(8, "big") + b

    seal = e["seal"]
    unsigned = (
        (b"\x01" if seal is None else b"\x02")
        + b"arqonbus-audit\x00"
        + e["index"].to_bytes(8, "big")
        + e["at_ms"].to_bytes(8, "big")
        + text(e["actor"])
        + text(e["action"])
        + text(e["target"])
        + text(e["details"])
        + e["prev_hash"]
    )
    if seal is None:
        return unsigned
    return unsigned + blob(seal["key"]) + blob(seal["signature"]) + blob(seal["signed"])


def check_seal(e):
    """A format-2 entry's signature, where a verifier of Ed25519 is at hand
    (the `cryptography` package); returns whether it was checked."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return False
    seal = e["seal"]
    try:
        Ed25519PublicKey.from_public_bytes(seal["key"]).verify(seal["signature"], seal["signed"])
    except (InvalidSignature, ValueError):
        raise Malformed(f"audit entry {e['index']}: its signature does not verify")
    return True


def check_chain(entries):
    """Verifies a chain from genesis; returns its head hash."""
    if not entries or entries[0]["index"] != 1:
        raise Malformed("an audit chain must start at index 1")
    prev, signed = bytes(32), 0
    for expected, e in enumerate(entries, start=1):
        if e["index"] != expected or e["prev_hash"] != prev:
            raise Malformed(f"audit entry {e['index']} does not follow entry {expected - 1}")
        if hashlib.sha256(hash_input(e)).digest() != e["hash"]:
            raise Malformed(f"audit entry {e['index']}: hash does not match")
        if e["seal"] is not None:
            signed += check_seal(e)
        prev = e["hash"]
    return prev.hex() + (f", {signed} signature(s) verified" if signed else "")


# ---- Section 10: comparing with the JSON view -----------------------------


def normalize(view):
    """Fields section 10 says MAY be left out get their default."""
    message = view["message"]
    if message.get("type") == "operate":
        reads = ("get_constraints", "get_parameters", "audit_range", "list_proposals", "show_proposal")
        if message.get("action") in reads:
            message.setdefault("stale", False)
        if message.get("action") == "set_parameters":
            message.setdefault("expected", None)
    if message.get("type") == "rollout" and message.get("action") == "status":
        message.setdefault("stale", False)
    return view


def same(a, b):
    """Equal, and of the same JSON type (48 is not 48.0, 1 is not true)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def main(directory):
    failures = 0
    bins = sorted(directory.glob("*.bin"))
    for path in bins:
        try:
            view, audit = read_frame(path.read_bytes())
            expected = normalize(json.loads(path.with_suffix(".json").read_text()))
            if not same(view, expected):
                raise Malformed(f"decoded {json.dumps(view)}\n  expected {json.dumps(expected)}")
            note = f"audit chain of {len(audit)}, head {check_chain(audit)}" if audit else ""
            print(f"ok   {path.name} {note}".rstrip())
        except (Malformed, KeyError, UnicodeDecodeError, IndexError) as e:
            failures += 1
            print(f"FAIL {path.name}: {type(e).__name__}: {e}")
    print(f"{len(bins) - failures} of {len(bins)} vectors read from the spec alone")
    return 1 if failures or not bins else 0


if __name__ == "__main__":
    here = pathlib.Path(__file__).resolve().parent
    sys.exit(main(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here / "vectors"))
