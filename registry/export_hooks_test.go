package registry

// SetExportBatch lets registry_test cross export batches with few rows.
func SetExportBatch(n int) (restore func()) {
	old := exportBatch
	exportBatch = n
	return func() { exportBatch = old }
}
