package auth

import (
	"time"
	_ "time/tzdata" // the zone database travels inside the binary
)

func mustLoadZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}
