package permits_test

import (
	"os"
	"testing"

	"infrashare/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
