"""The export bundle handed to counsel, and how anyone checks it.

    originals/E-1-<sha256 prefix>.png   every original, bit-exact
    manifest.json                       every fact, hash and custody event (UTF-8 JSON)
    manifest.json.sig                   Ed25519 signature of manifest.json's exact bytes
    signing-key.pem                     the installation's public key (also printed by
                                        `manage.py evidence_key`: compare fingerprints)
    report.html                         the same, readable, with thumbnails
    README.txt                          how to verify, with and without this app

Ed25519 rather than an HMAC: a lawyer can verify with the public key alone (openssl), and
holding it does not let anyone forge a bundle.
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

# The installation's key: it signs the bundles and the chains' checkpoints.
from incidents.chains import signing_key

FORMAT = "crisiscell-evidence-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
PUBLIC_KEY = "signing-key.pem"


def public_key_pem(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or signing_key().public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: Ed25519PublicKey | None = None) -> str:
    key = key or signing_key().public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def encode_manifest(manifest: dict) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()


def archive_name(item) -> str:
    return f"originals/{item.label}-{item.sha256[:12]}{item.extension}"


def write_bundle(out, *, manifest: dict, items, report_context: dict) -> str:
    """Write the ZIP to the binary file `out`; returns the manifest's SHA-256."""
    manifest_bytes = encode_manifest(manifest)
    key = signing_key()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for item in items:
            # Images and PDFs are compressed already: stored as they are, the export is fast.
            entry = zipfile.ZipInfo(archive_name(item), date_time=_zip_time(item.captured_at))
            with item.file.open("rb") as original, bundle.open(entry, "w") as target:
                for chunk in iter(lambda: original.read(1024 * 1024), b""):
                    target.write(chunk)
        bundle.writestr(MANIFEST, manifest_bytes)
        bundle.writestr(SIGNATURE, key.sign(manifest_bytes))
        bundle.writestr(PUBLIC_KEY, public_key_pem(key.public_key()))
        bundle.writestr(
            "report.html",
            render_to_string(
                "incidents/evidence/report.html",
                {**report_context, "fingerprint": fingerprint(key.public_key())},
            ),
        )
        bundle.writestr(
            "README.txt",
            render_to_string(
                "incidents/evidence/README.txt",
                {
                    "incident": manifest["incident"],
                    "anchors": manifest.get("anchors", {}),
                    "timeline_anchor": report_context.get("timeline_anchor"),
                },
            ),
        )
    return hashlib.sha256(manifest_bytes).hexdigest()


def _zip_time(moment):
    return moment.utctimetuple()[:6]


@dataclass
class BundleCheck:
    problems: list[str]
    fingerprint: str = ""
    items: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(data, *, public_key_pem_bytes: bytes | None = None) -> BundleCheck:
    """Check a bundle: the signature over manifest.json, then every original's hash and
    size against the manifest. With no key given, the installation's own key is used (a
    bundle's own signing-key.pem proves nothing: whoever altered it could replace it)."""
    problems: list[str] = []
    try:
        bundle = zipfile.ZipFile(data if hasattr(data, "read") else io.BytesIO(data))
    except zipfile.BadZipFile:
        return BundleCheck([_("This is not a ZIP bundle.")])
    with bundle:
        names = set(bundle.namelist())
        if MANIFEST not in names or SIGNATURE not in names:
            return BundleCheck([_("The bundle has no manifest.json or no signature.")])
        manifest_bytes = bundle.read(MANIFEST)
        if public_key_pem_bytes:
            key = serialization.load_pem_public_key(public_key_pem_bytes)
        else:
            key = signing_key().public_key()
        try:
            key.verify(bundle.read(SIGNATURE), manifest_bytes)
        except InvalidSignature:
            problems.append(_("The manifest's signature does not match: it was altered."))
        try:
            manifest = json.loads(manifest_bytes)
            entries = manifest["items"]
        except (ValueError, KeyError, TypeError):
            return BundleCheck([*problems, _("manifest.json cannot be read.")], fingerprint(key))
        for entry in entries:
            path = entry.get("file", "")
            if path not in names:
                problems.append(_("%(file)s is missing.") % {"file": path})
                continue
            digest = hashlib.sha256()
            with bundle.open(path) as original:
                for chunk in iter(lambda: original.read(1024 * 1024), b""):
                    digest.update(chunk)
            if digest.hexdigest() != entry.get("sha256"):
                problems.append(_("%(file)s does not match its SHA-256.") % {"file": path})
    return BundleCheck(problems, fingerprint(key), len(entries))
