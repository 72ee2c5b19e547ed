package notify

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestBlockedIP(t *testing.T) {
	for addr, blocked := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "10.0.0.5": true, "172.16.0.1": true, "172.31.255.255": true,
		"192.168.1.1": true, "169.254.169.254": true, "100.64.0.1": true, "100.127.255.254": true, "0.0.0.0": true,
		"0.1.2.3": true, "224.0.0.1": true, "239.255.255.250": true, "255.255.255.255": true, "198.18.0.1": true,
		"::1": true, "::": true, "fc00::1": true, "fd12:3456::1": true, "fe80::1": true, "ff02::1": true,
		"::ffff:127.0.0.1": true, "::ffff:10.0.0.1": true, "64:ff9b::a00:1": true, "2002:7f00:1::1": true,
		"8.8.8.8": false, "203.0.113.10": false, "100.63.255.255": false, "100.128.0.1": false, "172.32.0.1": false,
		"113.160.0.1": false, "2001:4860:4860::8888": false, "64:ff9b::808:808": false, "::ffff:8.8.8.8": false,
	} {
		if got := blockedIP(netip.MustParseAddr(addr)); got != blocked {
			t.Errorf("blockedIP(%s) = %v, want %v", addr, got, blocked)
		}
	}
}

func TestAllowlist(t *testing.T) {
	a := parseAllowlist([]string{" 127.0.0.1 ", "10.0.0.0/8", "Hooks.Internal.VN.", "::1", "", "fd00::/8"})
	ip := netip.MustParseAddr
	cases := []struct {
		host string
		ips  []netip.Addr
		ok   bool
	}{
		{"127.0.0.1", []netip.Addr{ip("127.0.0.1")}, true},
		{"127.0.0.2", []netip.Addr{ip("127.0.0.2")}, false},
		{"localhost", []netip.Addr{ip("127.0.0.1"), ip("::1")}, true},
		{"localhost", []netip.Addr{ip("127.0.0.1"), ip("192.168.0.1")}, false}, // every address counts
		{"hooks.internal.vn", []netip.Addr{ip("192.168.0.1")}, true},
		{"HOOKS.internal.vn.", []netip.Addr{ip("192.168.0.1")}, true},
		{"other.internal.vn", []netip.Addr{ip("192.168.0.1")}, false},
		{"x", []netip.Addr{ip("10.200.1.1")}, true},
		{"x", []netip.Addr{ip("fd00::5")}, true},
		{"x", []netip.Addr{ip("203.0.113.1"), ip("8.8.4.4")}, true},
		{"x", nil, false},
	}
	for _, c := range cases {
		if err := a.check(c.host, c.ips); (err == nil) != c.ok {
			t.Errorf("check(%s, %v) = %v, want ok=%v", c.host, c.ips, err, c.ok)
		}
	}
}

// Every kind has its own Vietnamese text; unknown kinds the generic one.
func TestMailTemplates(t *testing.T) {
	payload := `{"number":"YC-2026-00001","state":"submitted","purpose":"fiber",` +
		`"requester":{"code":"VIETTEL","name":"Viettel Cần Thơ"},"owner":{"code":"VNPT","name":"VNPT Cần Thơ"},` +
		`"reply_deadline":"2026-03-17T03:00:00.123456Z","accept_deadline":null,"reason":"Cột không đủ tải","url":""}`
	subjects := map[string]bool{}
	for _, action := range []string{"submitted", "approve", "request_info", "answer_info", "reject", "escalate", "resolve",
		"accept", "activate", "terminate", "withdraw", "overdue", "expired", "comment", "reminder"} {
		kind := "colocation." + action
		subject, body, err := renderMail(outboxEvent{ID: 1, Kind: kind, Payload: payload, CreatedAt: time.Now()}, "VNPT Cần Thơ")
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if subjects[subject] {
			t.Errorf("%s: subject %q is another kind's", kind, subject)
		}
		subjects[subject] = true
		if !strings.HasPrefix(subject, "[infrashare] ") || !strings.Contains(subject, "YC-2026-00001") || strings.Contains(subject, "colocation.") {
			t.Errorf("%s: subject %q", kind, subject)
		}
		for _, want := range []string{"Kính gửi VNPT Cần Thơ,", "Bên đề nghị: Viettel Cần Thơ (VIETTEL)", "Trạng thái: đã gửi, chờ trả lời",
			"Hạn trả lời: 10:00 ngày 17/03/2026", "Lý do: Cột không đủ tải", "Mục đích: kéo cáp quang"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: body lacks %q:\n%s", kind, want, body)
			}
		}
		if strings.Contains(body, "<no value>") || strings.Contains(body, "Hạn chấp nhận") || strings.Contains(body, "Xem chi tiết") {
			t.Errorf("%s: body shows empty fields:\n%s", kind, body)
		}
	}
	// Past tense is understood too.
	a, _, _ := renderMail(outboxEvent{Kind: "colocation.approved", Payload: payload}, "")
	b, _, _ := renderMail(outboxEvent{Kind: "colocation.approve", Payload: payload}, "")
	if a != b {
		t.Errorf("approved %q, approve %q", a, b)
	}
	subject, body, err := renderMail(outboxEvent{Kind: "permit.approve", ObjectType: "permit", ObjectID: "9", Payload: "[1,2]"}, "")
	if err != nil || subject != "[infrashare] Thông báo: permit.approve" || !strings.Contains(body, "Kính gửi Quý đơn vị,") ||
		!strings.Contains(body, "permit 9") {
		t.Errorf("generic: %q, %v\n%s", subject, err, body)
	}
	if vnd(12000000) != "12.000.000" || vnd(999) != "999" || vnd(1000) != "1.000" {
		t.Errorf("vnd: %s %s %s", vnd(12000000), vnd(999), vnd(1000))
	}
}
