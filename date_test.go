package infrashare

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDateJSON(t *testing.T) {
	var v struct {
		D Date `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2025-07-01"}`), &v); err != nil || v.D != (Date{2025, time.July, 1}) {
		t.Fatalf("%v %v", v.D, err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"d":"2025-07-01"}` {
		t.Fatalf("%s", b)
	}
	for _, bad := range []string{`{"d":"01/07/2025"}`, `{"d":"2025-02-30"}`, `{"d":20250701}`, `{"d":"2025-7-1"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if err := json.Unmarshal([]byte(`{"d":null}`), &v); err != nil || !v.D.IsZero() {
		t.Fatalf("null: %v %v", v.D, err)
	}
}

func TestDateScan(t *testing.T) {
	var d Date
	for _, src := range []any{"2025-07-01", []byte("2025-07-01"), "2025-07-01T00:00:00Z", time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)} {
		if err := d.Scan(src); err != nil || d.String() != "2025-07-01" {
			t.Errorf("Scan(%v) = %v, %v", src, d, err)
		}
	}
	if d.AddDays(184).String() != "2026-01-01" {
		t.Errorf("AddDays: %v", d.AddDays(184))
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Ủy ban nhân dân": "uy ban nhan dan",
		"ĐẶNG THỊ HOA":    "dang thi hoa",
		"Đường 30/4":      "duong 30/4",
		"CT-NK-001":       "ct-nk-001",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}
