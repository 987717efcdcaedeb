# Reads each file named on the command line with ruby-hocon (what the Jitsi package scripts use)
# and prints one JSON line per file: every leaf as [path, type, concise rendering].
require 'hocon'
require 'hocon/config_factory'
require 'hocon/config_render_options'
require 'hocon/config_value_type'
require 'json'

def walk(v, path, out)
  case v
  when Hocon::ConfigObject
    v.keys.sort.each { |k| walk(v[k], path + [k], out) }
  when Hocon::ConfigList
    v.to_array.each_with_index { |e, i| walk(e, path + [i], out) }
  else
    out << [path, Hocon::ConfigValueType.value_type_name(v.value_type), v.render(Hocon::ConfigRenderOptions.concise)]
  end
end

ARGV.each do |file|
  begin
    c = Hocon::ConfigFactory.parse_file(file).resolve
    out = []
    walk(c.root, [], out)
    puts JSON.generate({ 'file' => file, 'ok' => true, 'leaves' => out })
  rescue StandardError => e
    puts JSON.generate({ 'file' => file, 'ok' => false, 'error' => "#{e.class}: #{e.message}" })
  end
end
