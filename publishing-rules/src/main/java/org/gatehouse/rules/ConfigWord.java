package org.gatehouse.rules;

import java.util.Optional;

/** An enum constant as the rules file writes it ({@code round-robin}, {@code secure-only}, …). */
public interface ConfigWord {

    String configName();

    /** The constant of {@code type} written {@code word}, exactly. */
    static <E extends Enum<E> & ConfigWord> Optional<E> parse(Class<E> type, String word) {
        for (E e : type.getEnumConstants()) {
            if (e.configName().equals(word)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }
}
