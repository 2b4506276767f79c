//go:build !schemagen

package schemas

// The root's observer and agent go through the encoder's EncodeCache (in
// a file of its own: the generator builds this package without the
// appendX it calls).

// observer writes the root's observer, through the cache if there is one.
func (e *encoder) observer(v *Observer) {
	if !e.observers.hit(e, v) {
		from := len(e.b)
		e.field(`,"observer":`)
		e.appendObserver(v)
		e.observers.keep(e, v, from)
	}
}

// agent writes the root's agent, through the cache if there is one.
func (e *encoder) agent(v *Agent) {
	if !e.agents.hit(e, v) {
		from := len(e.b)
		e.field(`,"agent":`)
		e.appendAgent(v)
		e.agents.keep(e, v, from)
	}
}
