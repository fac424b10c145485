package measure

// Control steers a running load: the engine implements it, a fleet's
// controller too, and the console drives it without importing either.
// Every method is safe from any goroutine.
type Control interface {
	// Hold freezes every group's target where it is; Resume continues the
	// stages from where they were held (the held time is not counted).
	Hold()
	Resume()
	Held() bool
	// Scale multiplies every group's target by factor from now on
	// (1.1 = +10 %). Factors compound.
	Scale(factor float64)
	// SetTarget overrides one group's target (VUs or rate) until Resume.
	SetTarget(group string, target float64) error
	// Stop ramps down gracefully and returns when the load has ended
	// (for the engine: when every goroutine it started has ended).
	Stop()
}
