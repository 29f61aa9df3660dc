check -x.rules
