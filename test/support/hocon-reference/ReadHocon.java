// Reads each file named on the command line with Typesafe Config, as the videobridge reads
// jvb.conf (a .conf file, then resolved), and prints one JSON line per file: every leaf as
// [path, type, concise rendering], the whole document rendered concise, and each
// videobridge.apis.xmpp-client.configs block as the bridge turns it into its client settings
// (keys upper-cased, one entry after the other in the order the object yields them).
import com.typesafe.config.*;
import java.io.File;
import java.util.*;

public class ReadHocon {
  public static void main(String[] args) throws Exception {
    // UTF-8 out whatever the locale (Typesafe Config reads files as UTF-8 itself).
    java.io.PrintStream out = new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8");
    for (String path : args) out.println(read(path));
  }

  static String read(String path) {
    try {
      Config c = ConfigFactory.parseFile(new File(path),
          ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false)).resolve();
      StringBuilder leaves = new StringBuilder();
      walk(c.root(), new ArrayList<>(), leaves);
      return "{\"file\":" + q(path) + ",\"ok\":true,\"leaves\":[" + leaves + "],\"concise\":"
          + q(c.root().render(ConfigRenderOptions.concise())) + ",\"bridge\":" + bridge(c) + "}";
    } catch (RuntimeException e) {
      // 1.3.1 fails some bad paths ("a..b") with a NullPointerException where 1.4 throws BadPath: a refusal either way.
      return "{\"file\":" + q(path) + ",\"ok\":false,\"error\":" + q(e.getClass().getSimpleName() + ": " + e.getMessage()) + "}";
    }
  }

  static void walk(ConfigValue v, List<String> path, StringBuilder out) {
    if (v instanceof ConfigObject) {
      for (String k : new TreeSet<>(((ConfigObject) v).keySet())) {
        path.add(q(k));
        walk(((ConfigObject) v).get(k), path, out);
        path.remove(path.size() - 1);
      }
    } else if (v instanceof ConfigList) {
      List<ConfigValue> list = (ConfigList) v;
      for (int i = 0; i < list.size(); i++) {
        path.add(String.valueOf(i));
        walk(list.get(i), path, out);
        path.remove(path.size() - 1);
      }
    } else {
      if (out.length() > 0) out.append(',');
      out.append("[[").append(String.join(",", path)).append("],").append(q(v.valueType().name())).append(',')
          .append(q(v.render(ConfigRenderOptions.concise()))).append(']');
    }
  }

  static String bridge(Config c) {
    String at = "videobridge.apis.xmpp-client.configs";
    if (!c.hasPath(at) || c.getValue(at).valueType() != ConfigValueType.OBJECT) return "null";
    StringBuilder sb = new StringBuilder("{");
    for (Map.Entry<String, ConfigValue> e : c.getObject(at).entrySet()) {
      if (!(e.getValue() instanceof ConfigObject)) continue;
      Map<String, String> props = new TreeMap<>();
      ((ConfigObject) e.getValue()).forEach((k, v) -> props.put(k.toUpperCase(), String.valueOf(v.unwrapped())));
      if (sb.length() > 1) sb.append(',');
      sb.append(q(e.getKey())).append(":{");
      int n = 0;
      for (Map.Entry<String, String> p : props.entrySet())
        sb.append(n++ > 0 ? "," : "").append(q(p.getKey())).append(':').append(q(p.getValue()));
      sb.append('}');
    }
    return sb.append('}').toString();
  }

  static String q(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      if (ch == '"' || ch == '\\') sb.append('\\').append(ch);
      else if (ch < 0x20 || ch == 0x2028 || ch == 0x2029) sb.append(String.format("\\u%04x", (int) ch));
      else sb.append(ch);
    }
    return sb.append('"').toString();
  }
}
