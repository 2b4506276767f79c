package collector

import "time"

// sensorBound is a store that bounds its sensors table (store.Sink): past
// max_sensors the stats reports of new sensors are refused.
type sensorBound interface {
	SensorsRefused() (n uint64, last string)
	MaxSensors() int
}

// refusals is what a sink's refused reports were when last counted and
// logged.
type refusals struct {
	counted, logged uint64
	loggedAt        time.Time
}

// refusalLogEvery spaces the warnings about refused sensors: a producer
// inventing an agent id per message must not flood the log either.
const refusalLogEvery = time.Minute

// countRefusedSensors adds the reports of new sensors the store refused
// since the previous batch, and says so in the log at most once every
// refusalLogEvery, with how many and the last sensor refused.
func (c *Collector) countRefusedSensors(s *sink) {
	sb, ok := s.s.(sensorBound)
	if !ok {
		return
	}
	n, last := sb.SensorsRefused()
	r := &s.refused
	if n == r.counted {
		return
	}
	c.m.sensorsRefused.WithLabelValues(s.cfg.Name).Add(float64(n - r.counted))
	r.counted = n
	if now := time.Now(); now.Sub(r.loggedAt) >= refusalLogEvery {
		c.log.Warn("sensors table full: stats reports of new sensors refused (their events are stored; raise max_sensors or find the producer)",
			"output", s.cfg.Name, "max_sensors", sb.MaxSensors(), "refused", n-r.logged, "last_agent_id", last)
		r.logged, r.loggedAt = n, now
	}
}
