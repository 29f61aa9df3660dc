compile -o /tmp/never-a.rbc -o /tmp/never-b.rbc rules/
