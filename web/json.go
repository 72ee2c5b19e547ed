package web

import (
	"encoding/json"
	"sync"

	"github.com/labstack/echo/v4"
)

// jsonAppender is a value that writes its own JSON, byte for byte what
// encoding/json would write (registry.AssetView and NearbyItem; their
// tests compare the two).
type jsonAppender interface{ AppendJSON([]byte) []byte }

// pageAppender is a page whose items are jsonAppenders.
type pageAppender interface{ appendJSON([]byte) ([]byte, bool) }

// appendingJSON answers with a value's own encoder when it has one: list
// pages and nearby searches of assets encode tens of views per request, and
// reflection was the largest part of the API's own time on them
// (docs/performance.md). Everything else, and ?pretty, goes to Echo's
// encoding/json serializer.
type appendingJSON struct{ echo.DefaultJSONSerializer }

var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (s appendingJSON) Serialize(c echo.Context, i any, indent string) error {
	if indent != "" {
		return s.DefaultJSONSerializer.Serialize(c, i, indent)
	}
	buf := jsonBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= 1<<20 {
			jsonBuffers.Put(buf)
		}
	}()
	b, ok := (*buf)[:0], false
	switch v := i.(type) {
	case jsonAppender:
		b, ok = v.AppendJSON(b), true
	case pageAppender:
		b, ok = v.appendJSON(b)
	}
	if !ok {
		return s.DefaultJSONSerializer.Serialize(c, i, indent)
	}
	b = append(b, '\n') // as json.Encoder ends a value
	*buf = b
	_, err := c.Response().Write(b)
	return err
}

// appendJSON writes the page when its items can write themselves.
func (p page[T]) appendJSON(b []byte) ([]byte, bool) {
	var zero T
	if _, ok := any(zero).(jsonAppender); !ok {
		return b, false
	}
	b = append(b, `{"items":[`...)
	for i, it := range p.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = any(it).(jsonAppender).AppendJSON(b)
	}
	b = append(b, `],"next_cursor":`...)
	if p.NextCursor == nil {
		b = append(b, "null"...)
	} else {
		next, _ := json.Marshal(*p.NextCursor)
		b = append(b, next...)
	}
	return append(b, '}'), true
}
