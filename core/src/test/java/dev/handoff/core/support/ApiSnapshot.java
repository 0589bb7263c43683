package dev.handoff.core.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The public API of a module as text, one line per public type and per public or protected member (the
 * shape of OkHttp's {@code okhttp-sse.api}), compared with the snapshot checked in beside the module. A change
 * of API is then a visible, reviewed line in a diff. To accept a change, run the test with
 * {@code -Dhandoff.api.update=true}: it rewrites the snapshot.
 */
public final class ApiSnapshot {

    private ApiSnapshot() {
    }

    /**
     * Checks the public API of the module that {@code anchor} belongs to (the folder or jar it was loaded
     * from) against {@code snapshot}.
     */
    public static void check(Class<?> anchor, Path snapshot) throws Exception {
        Path location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        String actual;
        if (Files.isDirectory(location)) {
            actual = String.join("\n", describe(location)) + "\n";
        } else {
            try (java.nio.file.FileSystem jar = java.nio.file.FileSystems.newFileSystem(location)) {
                actual = String.join("\n", describe(jar.getPath("/"))) + "\n";
            }
        }
        if (Boolean.getBoolean("handoff.api.update")) {
            Files.writeString(snapshot, actual, StandardCharsets.UTF_8);
            return;
        }
        assertThat(snapshot).as("the API snapshot %s (create it with -Dhandoff.api.update=true)", snapshot).exists();
        String expected = Files.readString(snapshot, StandardCharsets.UTF_8);
        assertThat(actual).as("the public API differs from %s: if the change is meant, run the test with "
                + "-Dhandoff.api.update=true and commit the snapshot", snapshot).isEqualTo(expected);
    }

    /**
     * Fails if a line of the public API names a type that applications must not use: an {@code internal}
     * package's, or one of {@code forbidden} (an optional dependency's package, say).
     */
    public static void checkNamesNone(Class<?> anchor, String... forbidden) throws Exception {
        Path location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> leaks = new ArrayList<>();
        for (String line : describe(location)) {
            if (line.contains(".internal.") || Arrays.stream(forbidden).anyMatch(line::contains)) {
                leaks.add(line.strip());
            }
        }
        assertThat(leaks).as("public API lines that name internal types or %s", Arrays.toString(forbidden)).isEmpty();
    }

    /** Every public type outside {@code internal} packages, with its public and protected members. */
    static List<String> describe(Path classes) throws Exception {
        List<String> names;
        try (Stream<Path> files = Files.walk(classes)) {
            names = files.map(classes::relativize).map(Path::toString).filter(n -> n.endsWith(".class")
                    && !n.endsWith("module-info.class") && !n.startsWith("META-INF"))
                    .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.'))
                    .filter(n -> !n.contains(".internal.")).sorted().toList();
        }
        List<String> lines = new ArrayList<>();
        for (String name : names) {
            Class<?> type = Class.forName(name, false, ApiSnapshot.class.getClassLoader());
            if (!isVisible(type)) {
                continue;
            }
            lines.add(typeLine(type) + " {");
            List<String> members = new ArrayList<>();
            for (Field f : type.getDeclaredFields()) {
                if (isVisible(f.getModifiers()) && !f.isSynthetic()) {
                    members.add("  " + modifiers(f.getModifiers()) + f.getGenericType().getTypeName() + " " + f.getName());
                }
            }
            for (Constructor<?> c : type.getDeclaredConstructors()) {
                if (isVisible(c.getModifiers()) && !c.isSynthetic()) {
                    members.add("  " + modifiers(c.getModifiers()) + "<init>" + parameters(c));
                }
            }
            for (Method m : type.getDeclaredMethods()) {
                if (isVisible(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
                    members.add("  " + modifiers(m.getModifiers() & ~(type.isInterface() ? Modifier.ABSTRACT : 0))
                            + (m.isDefault() ? "default " : "") + m.getGenericReturnType().getTypeName() + " "
                            + m.getName() + parameters(m));
                }
            }
            members.sort(null);
            lines.addAll(members);
            lines.add("}");
        }
        return lines;
    }

    /** Public, and every enclosing type public too. */
    private static boolean isVisible(Class<?> type) {
        for (Class<?> t = type; t != null; t = t.getEnclosingClass()) {
            if (!Modifier.isPublic(t.getModifiers()) || t.isAnonymousClass() || t.isLocalClass() || t.isSynthetic()) {
                return false;
            }
        }
        return true;
    }

    private static boolean isVisible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    private static String typeLine(Class<?> type) {
        String kind = type.isAnnotation() ? "@interface" : type.isInterface() ? "interface" : type.isEnum() ? "enum"
                : type.isRecord() ? "record" : "class";
        int modifiers = type.getModifiers() & ~(type.isInterface() ? Modifier.ABSTRACT | Modifier.INTERFACE : 0);
        if (type.isEnum() || type.isRecord()) {
            modifiers &= ~(Modifier.FINAL | Modifier.STATIC);
        }
        StringBuilder sb = new StringBuilder(modifiers(modifiers)).append(kind).append(' ').append(type.getName());
        if (type.getGenericSuperclass() != null && !type.isEnum() && !type.isRecord()
                && type.getSuperclass() != Object.class) {
            sb.append(" extends ").append(type.getGenericSuperclass().getTypeName());
        }
        String[] interfaces = Arrays.stream(type.getGenericInterfaces()).map(java.lang.reflect.Type::getTypeName)
                .sorted().toArray(String[]::new);
        if (interfaces.length > 0) {
            sb.append(type.isInterface() ? " extends " : " implements ").append(String.join(", ", interfaces));
        }
        return sb.toString();
    }

    private static String modifiers(int modifiers) {
        String s = Modifier.toString(modifiers & ~(Modifier.SYNCHRONIZED | Modifier.NATIVE | Modifier.TRANSIENT
                | Modifier.VOLATILE | Modifier.STRICT));
        return s.isEmpty() ? "" : s + " ";
    }

    private static String parameters(Executable e) {
        return "(" + String.join(", ", Arrays.stream(e.getGenericParameterTypes()).map(java.lang.reflect.Type::getTypeName)
                .toList()) + ")" + (e.getExceptionTypes().length == 0 ? "" : " throws " + String.join(", ",
                Arrays.stream(e.getExceptionTypes()).map(Class::getName).sorted().toList()));
    }
}
