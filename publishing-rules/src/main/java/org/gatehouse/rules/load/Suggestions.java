package org.gatehouse.rules.load;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * "Did you mean": the known word closest to a misspelt one, by edit distance (a letter added, dropped, changed, or two
 * swapped), when it is close enough to be a slip rather than another word. A dozen lines, so no library for it.
 */
final class Suggestions {

    private Suggestions() {
    }

    /**
     * The candidate closest to {@code word}, if one is within a third of its length (at least 1, at most 3 edits) and
     * no other is as close (v3 is as near v1 as v2: no guess).
     */
    static Optional<String> closest(String word, Collection<String> candidates) {
        String w = word.toLowerCase(Locale.ROOT);
        int allowed = Math.max(1, Math.min(3, w.length() / 3));
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        boolean tie = false;
        for (String candidate : candidates) {
            int d = distance(w, candidate.toLowerCase(Locale.ROOT));
            if (d == 0 && !candidate.equals(word)) {
                return Optional.of(candidate); // only the case differs
            }
            if (d > 0 && d <= allowed) {
                if (d < bestDistance) {
                    best = candidate;
                    bestDistance = d;
                    tie = false;
                } else if (d == bestDistance) {
                    tie = true;
                }
            }
        }
        return tie ? Optional.empty() : Optional.ofNullable(best);
    }

    /** Optimal string alignment distance: Levenshtein with adjacent transpositions. Words here are short. */
    static int distance(String a, String b) {
        if (a.length() > 64 || b.length() > 64) {
            return Integer.MAX_VALUE; // nobody misspells a 64-letter key; bounds the work on hostile input
        }
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
