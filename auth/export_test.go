package auth

// SetBcryptCost sets the cost of new password hashes and returns the one it
// replaces. The external tests hash at bcrypt's minimum cost to stay fast
// (the race detector makes the default cost take about a second), and the
// timing test raises it back to the real cost.
func SetBcryptCost(cost int) (old int) {
	old, bcryptCost = bcryptCost, cost
	return old
}
