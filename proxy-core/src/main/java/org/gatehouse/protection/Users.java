package org.gatehouse.protection;

import java.util.Locale;
import org.gatehouse.log.LogText;

/** How a user name is counted: lower case (most backends and Active Directory match it so), escaped, bounded. */
final class Users {

    static final int MAX_CHARS = 128;

    private Users() {
    }

    static String key(String user) {
        return user.isEmpty() ? "" : LogText.clean(user.toLowerCase(Locale.ROOT), MAX_CHARS);
    }
}
