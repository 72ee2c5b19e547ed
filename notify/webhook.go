package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Webhook delivery headers.
const (
	HeaderEventID   = "X-Infrashare-Event-Id"
	HeaderTimestamp = "X-Infrashare-Timestamp"
	HeaderSignature = "X-Infrashare-Signature"
)

// WireEvent is the JSON body POSTed to a webhook.
type WireEvent struct {
	// ID is "evt_<n>", the same on every retry: receivers de-duplicate on it.
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	OccurredAt string          `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

func eventID(id int64) string { return "evt_" + strconv.FormatInt(id, 10) }

// Sign is the value of X-Infrashare-Signature for a body sent at timestamp
// (unix seconds, as in X-Infrashare-Timestamp): "sha256=" and the hex
// HMAC-SHA256, keyed with the whole secret string (prefix included), of
// timestamp + "." + body. Receivers recompute it, compare in constant time
// and reject old timestamps to stop replays.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a signature made by Sign, in constant time.
func VerifySignature(secret, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

// newHTTPClient is the webhook client: every connection dialled through
// the SSRF check, no proxy, no keep-alive (each delivery dials, and so is
// checked, afresh), no redirects, 10 s for the whole call.
func (s *Service) newHTTPClient() *http.Client {
	return &http.Client{
		Timeout: webhookTimeout,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            s.dialContext,
			DisableKeepAlives:      true,
			TLSHandshakeTimeout:    webhookTimeout,
			ResponseHeaderTimeout:  webhookTimeout,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// postWebhook sends one webhook delivery. 2xx is delivered; any other
// status, a refused address or a timeout is an error to retry.
func (s *Service) postWebhook(ctx context.Context, c *claimed, allow allowlist) error {
	if c.hook == nil || !c.hook.Active {
		return permanent("the webhook was deleted")
	}
	u, err := url.Parse(c.hook.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return permanent("the webhook URL is not an http or https URL")
	}
	data := json.RawMessage(c.event.Payload)
	if !json.Valid(data) {
		data = json.RawMessage("{}")
	}
	body, err := json.Marshal(WireEvent{ID: eventID(c.event.ID), Kind: c.event.Kind, ObjectType: c.event.ObjectType,
		ObjectID: c.event.ObjectID, OccurredAt: c.event.CreatedAt.UTC().Format(time.RFC3339Nano), Data: data})
	if err != nil {
		return permanent("encode the event: %v", err)
	}
	ts := strconv.FormatInt(s.clock.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(context.WithValue(ctx, allowlistKey{}, allow), http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return permanent("build the request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "infrashare-webhooks/1")
	req.Header.Set(HeaderEventID, eventID(c.event.ID))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(c.hook.Secret, ts, body))
	resp, err := s.http.Do(req)
	if err != nil {
		return httpError(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the receiver answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// httpError describes a failed call without the URL, whose query string
// may hold a credential of the receiver's.
func httpError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("timed out after %s", webhookTimeout)
	}
	var blocked errBlocked
	if errors.As(err, &blocked) {
		return blocked
	}
	return err
}
