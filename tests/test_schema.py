from django.core.management import call_command


def test_openapi_schema_generates_without_warnings(tmp_path, db):
    # Warnings here (e.g. enum name collisions) also fail `make check-deploy`.
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/incidents/{id}/timeline/",
        "/api/statements/{id}/approve/",
        "/api/incidents/{id}/crisis-page/",
        "/api/incidents/{id}/crisis-page/switch/",
        "/api/incidents/{id}/crisis-page/faq-order/",
        "/api/incidents/{id}/crisis-page/submit-drafts/",
    ):
        assert path in schema
    assert "incidents_crisis_page_faq_order" in schema and "FaqOrderIn" in schema
    assert "incidents_crisis_page_submit_drafts" in schema and "DraftsSubmitted" in schema
