"""Hash chains and their signed checkpoints: what makes the records tamper-evident.

Every append-only record belongs to a chain:

    timeline:<incident>    the timeline entries (hash-chained rows; head = last entry's hash)
    custody:<item>         an evidence item's custody events (hash-chained rows, likewise)
    revisions:<statement>  a statement's revisions (head = fold of each revision's digest)
    reviews:<statement>    a statement's reviews (fold; opened empty with the statement)
    evidence:<incident>    the facts of the incident's evidence items (fold, by exhibit number)

A chain's rows prove that nothing in the middle changed; nothing in the rows proves that the
last ones are still there. So each append also writes, in the same transaction, the chain's
checkpoint: (chain, count, head), signed with the installation's Ed25519 evidence key. Who
can only write to the tables can delete rows but cannot re-sign the checkpoint; the checks
(`manage.py verify_integrity`) compare every chain with its checkpoint. Exports print the
heads, so copies kept outside can be compared too.
"""

import base64
import hashlib
import json
import logging
from collections.abc import Iterable
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

logger = logging.getLogger("incidents.chains")

GENESIS_HASH = "0" * 64
SIGNATURE_CONTEXT = "crisiscell-checkpoint/1"

TIMELINE = "timeline"
CUSTODY = "custody"
REVISIONS = "revisions"
REVIEWS = "reviews"
EVIDENCE = "evidence"


def chain_name(kind: str, pk: int) -> str:
    return f"{kind}:{pk}"


def signing_key() -> Ed25519PrivateKey:
    """From EVIDENCE_SIGNING_KEY (base64 of a 32-byte seed), else derived from SECRET_KEY:
    stable across restarts, but rotating SECRET_KEY then changes the key (docs say so)."""
    return _key(settings.EVIDENCE_SIGNING_KEY, settings.SECRET_KEY)


@lru_cache(maxsize=4)
def _key(configured: str, secret: str) -> Ed25519PrivateKey:
    if configured:
        seed = base64.b64decode(configured)
    else:
        seed = hashlib.sha256(f"crisiscell-evidence-signing:{secret}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def canonical_hash(content: dict) -> str:
    """SHA-256 of the canonical JSON of `content` (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fold(head: str, digest: str) -> str:
    """The head of a folded chain after one more row whose digest is `digest`."""
    return hashlib.sha256(f"{head}{digest}".encode()).hexdigest()


def fold_all(digests: Iterable[str]) -> tuple[int, str]:
    count, head = 0, GENESIS_HASH
    for digest in digests:
        count, head = count + 1, fold(head, digest)
    return count, head


def _message(chain: str, count: int, head: str) -> bytes:
    return f"{SIGNATURE_CONTEXT}\n{chain}\n{count}\n{head}".encode()


def sign(chain: str, count: int, head: str) -> str:
    return signing_key().sign(_message(chain, count, head)).hex()


def signature_valid(chain: str, count: int, head: str, signature: str) -> bool:
    try:
        signing_key().public_key().verify(bytes.fromhex(signature), _message(chain, count, head))
    except (InvalidSignature, ValueError):
        return False
    return True


def anchor(chain: str, *, count: int, head: str, prev_head: str) -> bool:
    """Advance the chain's signed checkpoint from (count - 1, prev_head) to (count, head),
    in the transaction that appends the row; the caller holds the lock that serializes the
    chain's writers. One UPDATE, which only matches if the checkpoint is where the stored
    chain says it is: after a deletion or a wipe (a timeline restarting at 1) it is not,
    and the checkpoint is left as it was, so the checks keep reporting it. The append
    itself goes on (a crisis cell keeps working); the mismatch is logged as critical."""
    from .models import ChainCheckpoint

    fields = {
        "count": count,
        "head": head,
        "signature": sign(chain, count, head),
        "signed_at": timezone.now(),
    }
    if ChainCheckpoint.objects.filter(chain=chain, count=count - 1, head=prev_head).update(
        **fields
    ):
        return True
    if count == 1 and not ChainCheckpoint.objects.filter(chain=chain).exists():
        ChainCheckpoint.objects.create(chain=chain, **fields)
        return True
    logger.critical(
        "Chain %s does not continue its signed checkpoint (record %s): records were deleted "
        "or altered; the checkpoint is kept as it was. Run manage.py verify_integrity.",
        chain,
        count,
    )
    return False


def open_chain(chain: str) -> None:
    """Sign an empty chain (count 0), so that losing all its future rows shows."""
    from .models import ChainCheckpoint

    ChainCheckpoint.objects.create(
        chain=chain,
        count=0,
        head=GENESIS_HASH,
        signature=sign(chain, 0, GENESIS_HASH),
        signed_at=timezone.now(),
    )


def anchor_fold(chain: str, digest: str) -> bool:
    """Append one row's digest to a folded chain (the caller holds the chain's lock)."""
    from .models import ChainCheckpoint

    last = ChainCheckpoint.objects.filter(chain=chain).values_list("count", "head").first()
    count, head = last or (0, GENESIS_HASH)
    return anchor(chain, count=count + 1, head=fold(head, digest), prev_head=head)


def anchor_problems(
    checkpoint, chain: str, *, count: int, head: str, required: bool = False
) -> list[str]:
    """What is wrong between a chain as stored (count rows, ending at head) and its
    checkpoint row (None when there is none; `required`: a checkpoint must exist even for
    an empty chain)."""
    if checkpoint is None:
        if count == 0 and not required:
            return []
        return [_("no signed checkpoint for this chain (deleted, or written without one)")]
    problems = []
    if not signature_valid(chain, checkpoint.count, checkpoint.head, checkpoint.signature):
        problems.append(_("the checkpoint's signature does not verify (checkpoint forged)"))
    if checkpoint.count != count:
        problems.append(
            _("%(n)s record(s) where the signed checkpoint counts %(m)s")
            % {"n": count, "m": checkpoint.count}
        )
    elif checkpoint.head != head:
        problems.append(_("the last record does not match the signed checkpoint's head hash"))
    return problems


def walk(rows: Iterable, *, label: str) -> tuple[list[str], int, str]:
    """Walk hash-chained rows (seq, prev_hash, hash, compute_hash()) in seq order. Returns
    every problem (not just the first), the number of rows and the last stored hash."""
    problems = []
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            problems.append(
                _("%(label)s sequence jumps from %(a)s to %(b)s")
                % {"label": label, "a": expected_seq - 1, "b": row.seq}
            )
        if row.prev_hash != expected_prev:
            problems.append(
                _("%(label)s #%(seq)s does not link to the previous one's hash")
                % {"label": label, "seq": row.seq}
            )
        if row.compute_hash() != row.hash:
            problems.append(
                _("%(label)s #%(seq)s content does not match its hash (altered after recording)")
                % {"label": label, "seq": row.seq}
            )
        expected_prev, expected_seq = row.hash, row.seq + 1
    return problems, count, expected_prev


def timeline_problems(incident) -> list[str]:
    """Every problem of the incident's timeline: its chain, then its signed checkpoint."""
    from .models import ChainCheckpoint, TimelineEntry

    rows = TimelineEntry.objects.filter(incident=incident).order_by("seq").iterator()
    problems, count, head = walk(rows, label=_("timeline entry"))
    chain = chain_name(TIMELINE, incident.pk)
    checkpoint = ChainCheckpoint.objects.filter(chain=chain).first()
    if count == 0:
        problems.append(_("the timeline is empty (every incident starts with its declaration)"))
    return problems + anchor_problems(checkpoint, chain, count=count, head=head, required=True)
