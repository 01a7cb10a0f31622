package org.vfioorchestrator.apply;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.vfioorchestrator.plan.ValueFormat;

/** Typed access to a JSON object's fields, each ill-typed one named ({@link IllegalArgumentException}). */
final class JsonFields {
    private final Map<?, ?> map;

    JsonFields(Map<?, ?> map) {
        this.map = map;
    }

    /** A string, or null when absent (the record made from it says whether it may be). */
    String string(String key) {
        Object v = map.get(key);
        if (v != null && !(v instanceof String)) {
            throw new IllegalArgumentException("'" + key + "' is not a string");
        }
        return (String) v;
    }

    /** A value format by name, or null when absent. */
    ValueFormat valueFormat(String key) {
        String name = string(key);
        if (name == null) {
            return null;
        }
        for (ValueFormat f : ValueFormat.values()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("'" + key + "' is '" + name + "', not a value format");
    }

    long wholeNumber(String key) {
        Object v = map.get(key);
        if (v == null) {
            throw new IllegalArgumentException("'" + key + "' is missing");
        }
        if (!(v instanceof Integer || v instanceof Long)) {
            throw new IllegalArgumentException("'" + key + "' is not a whole number");
        }
        return ((Number) v).longValue();
    }

    /** A process or thread id: a whole number from 1 up. */
    int id(String key) {
        long v = wholeNumber(key);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("'" + key + "' is " + v + ", not a process or thread id");
        }
        return (int) v;
    }

    /** A list of strings; absent is empty. */
    List<String> strings(String key) {
        List<String> out = new ArrayList<>();
        for (Object o : list(key)) {
            if (!(o instanceof String s)) {
                throw new IllegalArgumentException("'" + key + "' holds something that is not a string");
            }
            out.add(s);
        }
        return out;
    }

    /** A list of process ids; absent is empty. */
    List<Integer> ids(String key) {
        List<Integer> out = new ArrayList<>();
        for (Object o : list(key)) {
            if (!(o instanceof Integer || o instanceof Long) || ((Number) o).longValue() <= 0
                    || ((Number) o).longValue() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("'" + key + "' holds something that is not a process id");
            }
            out.add(((Number) o).intValue());
        }
        return out;
    }

    private List<?> list(String key) {
        Object v = map.get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> l)) {
            throw new IllegalArgumentException("'" + key + "' is not a list");
        }
        return l;
    }
}
