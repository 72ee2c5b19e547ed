package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// client talks to the server under test.
type client struct {
	base    string
	http    *http.Client
	timeout time.Duration
}

func newClient(base string, conns int, timeout time.Duration) *client {
	tr := &http.Transport{
		Proxy:               nil, // the server under test is reached directly
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{base: strings.TrimRight(base, "/"), http: &http.Client{Transport: tr}, timeout: timeout}
}

// apiError is an answer with a status the caller did not expect.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// do sends one request and reads the whole answer. out, when not nil,
// receives a 2xx answer's JSON. The status is 0 when no answer came.
func (c *client) do(ctx context.Context, token, method, path string, body, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		_, _ = io.Copy(io.Discard, resp.Body) // so that the connection is reused
		return resp.StatusCode, &apiError{status: resp.StatusCode, body: strings.TrimSpace(string(b))}
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
		}
	}
	// Read what is left, so that the time counts the whole answer (a
	// streamed GeoJSON export, say) and the connection is reused.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// errKind names a failed request's cause for the error counts.
func errKind(status int, err error) string {
	switch {
	case status != 0:
		return statusKey(status)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "transport"
	}
}

// orgRef, assetItem and requestItem are the parts of the API's answers
// the generator reads (DESIGN §4).
type orgRef struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
}

type assetItem struct {
	ID       int64    `json:"id"`
	Kind     string   `json:"kind"`
	Status   string   `json:"status"`
	Owner    orgRef   `json:"owner"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Contact  string   `json:"contact"`
	Version  int      `json:"version"`
	Capacity struct {
		Free int `json:"free"`
	} `json:"capacity"`
}

type requestItem struct {
	ID        int64  `json:"id"`
	State     string `json:"state"`
	Requester orgRef `json:"requester"`
}

type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// account is one signed-in user and what the writes need to know of it.
type account struct {
	email    string
	token    string
	org      orgRef
	operator bool

	mu          sync.Mutex
	own         []ownAsset // the organisation's assets, for PATCH
	commentable []int64    // requests the account is a party to (or sees, as the department)
	open        []int64    // requests this run filed and has not withdrawn yet
}

// ownAsset is an asset of the account's organisation with the version the
// generator last saw.
type ownAsset struct {
	id      int64
	version int
	contact string
}

type loginAnswer struct {
	Token string `json:"token"`
	User  struct {
		Organization orgRef   `json:"organization"`
		Roles        []string `json:"roles"`
	} `json:"user"`
}

// signIn signs in through POST /api/v1/auth/login for a bearer token.
func (c *client) signIn(ctx context.Context, email, password string) (*account, error) {
	var ans loginAnswer
	if _, err := c.do(ctx, "", "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, &ans); err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", email, err)
	}
	if ans.Token == "" {
		return nil, fmt.Errorf("sign in as %s: no token in the answer", email)
	}
	a := &account{email: email, token: ans.Token, org: ans.User.Organization}
	for _, r := range ans.User.Roles {
		if r == "operator" {
			a.operator = true
		}
	}
	return a, nil
}
