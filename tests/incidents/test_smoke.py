def test_room_renders_for_the_lead(browser_client, incident, lead):
    response = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/")
    assert response.status_code == 200
    assert incident.title in response.text
