package web

import (
	"fmt"
	"strings"
	"testing"

	"infrashare/database"
	"infrashare/database/dbtest"
)

type webhookBody struct {
	ID        int64   `json:"id"`
	URL       string  `json:"url"`
	Active    bool    `json:"active"`
	CreatedAt string  `json:"created_at"`
	Secret    *string `json:"secret"`
}

func TestWebhookRoutes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		vnpt, viettel := a.token("operator"), a.token("operator2")

		var created webhookBody
		a.mustJSON(a.call("POST", "/api/v1/webhooks", vnpt, map[string]any{"url": "https://203.0.113.10/infrashare"}), 201, &created)
		if created.ID == 0 || created.URL != "https://203.0.113.10/infrashare" || !created.Active || created.CreatedAt == "" {
			t.Errorf("created %+v", created)
		}
		if created.Secret == nil || !strings.HasPrefix(*created.Secret, "whsec_") {
			t.Fatalf("the create answer lacks the secret: %+v", created)
		}
		secret := *created.Secret

		// The secret is shown once: never in the list.
		r := a.call("GET", "/api/v1/webhooks", vnpt, nil)
		var list struct {
			Items      []webhookBody `json:"items"`
			NextCursor *string       `json:"next_cursor"`
		}
		a.mustJSON(r, 200, &list)
		if len(list.Items) != 1 || list.Items[0].ID != created.ID || list.Items[0].Secret != nil || strings.Contains(r.String(), secret) {
			t.Errorf("list %s", r)
		}

		// Viettel neither sees nor deletes VNPT's webhook.
		a.mustJSON(a.call("GET", "/api/v1/webhooks", viettel, nil), 200, &list)
		if len(list.Items) != 0 {
			t.Errorf("Viettel lists %+v", list.Items)
		}
		path := fmt.Sprintf("/api/v1/webhooks/%d", created.ID)
		if r := a.call("DELETE", path, viettel, nil); r.status != 404 {
			t.Errorf("Viettel deletes VNPT's webhook: %d %s", r.status, r)
		}

		// Only operators.
		for _, role := range []string{"admin", "auditor", "officer"} {
			tok := a.token(role)
			if r := a.call("POST", "/api/v1/webhooks", tok, map[string]any{"url": "https://203.0.113.10/x"}); r.status != 403 {
				t.Errorf("POST as %s: %d %s", role, r.status, r)
			}
			if r := a.call("GET", "/api/v1/webhooks", tok, nil); r.status != 403 {
				t.Errorf("GET as %s: %d", role, r.status)
			}
			if r := a.call("DELETE", path, tok, nil); r.status != 403 {
				t.Errorf("DELETE as %s: %d", role, r.status)
			}
		}
		for _, c := range []struct{ method, path string }{{"GET", "/api/v1/webhooks"}, {"POST", "/api/v1/webhooks"}, {"DELETE", path}} {
			if r := a.call(c.method, c.path, "", nil); r.status != 401 {
				t.Errorf("%s %s signed out: %d", c.method, c.path, r.status)
			}
		}

		// Bad input.
		for _, c := range []struct {
			body   any
			status int
			field  string
		}{
			{map[string]any{"url": "http://127.0.0.1/hook"}, 422, "url"},
			{map[string]any{"url": "http://10.0.0.5/"}, 422, "url"},
			{map[string]any{"url": "http://169.254.169.254/latest/meta-data/"}, 422, "url"},
			{map[string]any{"url": "ftp://203.0.113.10/"}, 422, "url"},
			{map[string]any{"url": "https://203.0.113.10/" + strings.Repeat("a", 2000)}, 422, "url"},
			{map[string]any{}, 422, "url"},
			{map[string]any{"url": 5}, 422, "url"},
			{map[string]any{"url": "https://203.0.113.10/", "secret": "whsec_mine"}, 422, "secret"},
			{"{not json", 400, ""},
		} {
			r := a.call("POST", "/api/v1/webhooks", vnpt, c.body)
			if r.status != c.status || (c.field != "" && !strings.Contains(r.String(), `"fields":{"`+c.field+`"`)) {
				t.Errorf("POST %v: %d %s, want %d on %q", c.body, r.status, r, c.status, c.field)
			}
		}
		for _, p := range []string{"/api/v1/webhooks/abc", "/api/v1/webhooks/0", "/api/v1/webhooks/999999"} {
			if r := a.call("DELETE", p, vnpt, nil); r.status != 404 {
				t.Errorf("DELETE %s: %d", p, r.status)
			}
		}

		// Delete: 204, then gone.
		if r := a.call("DELETE", path, vnpt, nil); r.status != 204 {
			t.Fatalf("DELETE: %d %s", r.status, r)
		}
		if r := a.call("DELETE", path, vnpt, nil); r.status != 404 {
			t.Errorf("DELETE again: %d", r.status)
		}
		a.mustJSON(a.call("GET", "/api/v1/webhooks", vnpt, nil), 200, &list)
		if len(list.Items) != 0 {
			t.Errorf("after delete: %+v", list.Items)
		}

		// Audited, and the secret appears nowhere but in the create answer.
		r = a.call("GET", "/api/v1/audit-events?limit=500", a.token("auditor"), nil)
		if r.status != 200 || !strings.Contains(r.String(), "webhook.create") || !strings.Contains(r.String(), "webhook.delete") {
			t.Errorf("audit: %d %.300s", r.status, r)
		}
		if strings.Contains(r.String(), secret) || strings.Contains(a.logs.String(), secret) {
			t.Error("the secret leaked into the audit log or the server log")
		}
	})
}
