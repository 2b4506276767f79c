//go:build !schemagen

package schemas

// The root's observer and agent go through the encoder's EncodeCache (in
// a file of its own: the generator builds this package without the
// appendX it calls).

// observer writes the root's observer, through the cache if there is one.
func (e *encoder) observer(v *Observer) {
	if e.cache != nil && e.cache.observer.hit(e, v) {
		return
	}
	from := len(e.b)
	e.field(`,"observer":`)
	e.appendObserver(v)
	if e.cache != nil {
		e.cache.observer.keep(e, v, from)
	}
}

// agent writes the root's agent, through the cache if there is one.
func (e *encoder) agent(v *Agent) {
	if e.cache != nil && e.cache.agent.hit(e, v) {
		return
	}
	from := len(e.b)
	e.field(`,"agent":`)
	e.appendAgent(v)
	if e.cache != nil {
		e.cache.agent.keep(e, v, from)
	}
}
