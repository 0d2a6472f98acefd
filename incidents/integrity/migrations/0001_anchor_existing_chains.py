"""Sign a checkpoint for every chain written before checkpoints existed, as it stands now
(the checks still walk each chain: a chain broken before this runs stays reported)."""

from django.db import migrations
from django.utils import timezone

from incidents import chains
from incidents.evidence.models import facts_digest
from statements.models import review_digest, revision_digest


def anchor_existing(apps, schema_editor):
    checkpoint = apps.get_model("incidents", "ChainCheckpoint")
    existing = set(checkpoint.objects.values_list("chain", flat=True))
    rows = []

    def add(kind, pk, count, head):
        chain = chains.chain_name(kind, pk)
        if chain not in existing:
            rows.append(
                checkpoint(
                    chain=chain,
                    count=count,
                    head=head,
                    signature=chains.sign(chain, count, head),
                    signed_at=timezone.now(),
                )
            )

    def linked(model, parent, kind):
        last = {}
        for pk, seq, hash_ in model.objects.order_by(parent, "seq").values_list(
            parent, "seq", "hash"
        ):
            count = last.get(pk, (0, ""))[0] + 1
            last[pk] = (count, hash_)
        for pk, (count, head) in last.items():
            add(kind, pk, count, head)

    def folded(queryset, parent, kind, digest, every=()):
        heads = {pk: (0, chains.GENESIS_HASH) for pk in every}
        for row in queryset.iterator():
            count, head = heads.get(getattr(row, parent), (0, chains.GENESIS_HASH))
            heads[getattr(row, parent)] = (count + 1, chains.fold(head, digest(row)))
        for pk, (count, head) in heads.items():
            add(kind, pk, count, head)

    linked(apps.get_model("incidents", "TimelineEntry"), "incident_id", chains.TIMELINE)
    linked(apps.get_model("evidence", "CustodyEvent"), "item_id", chains.CUSTODY)
    statement_ids = apps.get_model("statements", "Statement").objects.values_list("pk", flat=True)
    revision = apps.get_model("statements", "Revision")
    folded(
        revision.objects.order_by("statement_id", "number"),
        "statement_id",
        chains.REVISIONS,
        revision_digest,
    )
    review = apps.get_model("statements", "Review")
    folded(
        review.objects.order_by("statement_id", "id"),
        "statement_id",
        chains.REVIEWS,
        review_digest,
        every=list(statement_ids),
    )
    item = apps.get_model("evidence", "EvidenceItem")
    folded(item.objects.order_by("incident_id", "number"), "incident_id", chains.EVIDENCE, facts_digest)
    checkpoint.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_chain_checkpoints_and_no_truncate"),
        ("statements", "0005_no_truncate"),
        ("evidence", "0002_no_truncate"),
    ]

    operations = [migrations.RunPython(anchor_existing, migrations.RunPython.noop)]
