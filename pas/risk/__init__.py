"""Risk: exposures (:mod:`.exposure`), historical VaR/CVaR (:mod:`.var`), the circuit
breaker (:mod:`.breaker`), and reading a book from the store (:mod:`.books`)."""
