package org.gatehouse.rules;

import java.util.List;

/** A rules file that cannot be used, with every problem found in it. */
public final class RulesException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient List<Problem> problems;

    public RulesException(List<Problem> problems) {
        super(describe(problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a RulesException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    public RulesException(Problem problem) {
        this(List.of(problem));
    }

    /** Every problem, in the order they appear in the file. */
    public List<Problem> problems() {
        return problems;
    }

    private static String describe(List<Problem> problems) {
        StringBuilder sb = new StringBuilder();
        sb.append(problems.size() == 1 ? "1 problem" : problems.size() + " problems");
        for (Problem p : problems) {
            sb.append(System.lineSeparator()).append("  ").append(p);
        }
        return sb.toString();
    }
}
