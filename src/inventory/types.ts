/** The typed, validated inventory the rest of the tool is written against. */

export type Connection = 'ssh' | 'local';

/** Where something was written in the inventory file (1-based). */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export interface HostSpec {
  /** Inventory name; every message about the host uses it. */
  name: string;
  /** The group that gives the host its part in the playbook (one of the schema's roles); '' for none. */
  role: string;
  /** Every group the host belongs to, ancestors included. */
  groups: string[];
  connection: Connection;
  address: string;
  port: number;
  user: string;
  /** The inventory's key (ansible_ssh_private_key_file or ansible_private_key_file), resolved to a path. */
  privateKeyPath?: string;
  become: boolean;
  becomeUser: string;
  /** ansible_sudo_pass, ansible_become_pass or ansible_become_password, in Ansible's order; never shown. */
  becomePassword?: string;
  /** All variables after precedence, the known ones converted to their types, the others as written. */
  vars: Record<string, unknown>;
  /** The same variables as YAML gave them (what ansible-inventory prints). */
  written: Record<string, unknown>;
  /** Things the user should know about how the host was read (a key found beside the inventory…). */
  notes: string[];
  /** Where each variable that reaches the host was set. */
  varAt: Record<string, SourcePosition>;
  /** Where the host is first defined. */
  defined: SourcePosition;
}

export interface Inventory {
  file: string;
  /** What was passed over, as Ansible passes it over with a warning ("file:line:col: …"). */
  notes: string[];
  /** Every host with a role, role by role in the order the schema lists them, then in inventory order. */
  hosts: HostSpec[];
  /** Every host of the file, with a role or not, in inventory order. */
  everyHost: HostSpec[];
  /** Every group as Ansible holds it: the hosts listed in it directly and its child groups, by name. */
  tree: GroupNode[];
  /** Role → its hosts, in inventory order (every role of the schema, perhaps with none). */
  byRole: Record<string, HostSpec[]>;
  /** Group name → host names (hosts with a role only), for --limit. */
  groups: Record<string, string[]>;
}

export interface GroupNode {
  name: string;
  hosts: string[];
  children: string[];
}

/** A part hosts play in a playbook, given by the inventory group of the same name. */
export interface RoleSpec {
  name: string;
  /** How many hosts the role takes: exactly one, at least one, or any number. */
  count: 'one' | 'one-or-more' | 'any';
  /** What to put in the group, for the message when it is missing ("the Jitsi Meet server"). */
  what: string;
  /** What one host and several are called on screen ("meet server", "meet servers"). */
  label: readonly [string, string];
  /** Discovery reads this role's hosts even when --limit leaves them out, and cannot go on without them. */
  anchor?: boolean;
}

export type VarType =
  | { kind: 'string' }
  | { kind: 'address' }
  | { kind: 'port' }
  | { kind: 'bool' }
  | { kind: 'path' }
  /** A list of absolute directories (a YAML list, or one directory as a string). */
  | { kind: 'directories' }
  | { kind: 'enum'; values: readonly string[] };

/** One inventory variable a playbook (or the connection) reads. */
export interface VarSpec {
  type: VarType;
  doc: string;
  /** The value when the inventory gives none; absent when the default is found at run time (the doc says how). */
  default?: string | number | boolean;
  /** The value is a secret: never shown, and one line (no control characters). */
  secret?: boolean;
  /** The value is written as one line (a config value, a debconf answer): control characters are refused. */
  oneLine?: boolean;
  /** Older Ansible spelling that means the same (and wins over it when both are set, as in Ansible). */
  aliasOf?: string;
}

/** What an inventory must hold for a playbook, and the variables every command of the tool reads. */
export interface InventorySchema {
  roles: readonly RoleSpec[];
  /** Known variables: typed, checked, and the yardstick for "did you mean". */
  variables: Readonly<Record<string, VarSpec>>;
  /** Name prefixes that belong to the tool: an unknown name with one is an error, not a user variable. */
  families?: readonly { prefix: string; label: string }[];
  /** The playbook's own rules across hosts (unique addresses, nicknames…), each problem with its position. */
  check?(inventory: Inventory): InventoryProblem[];
}

export interface InventoryProblem extends SourcePosition {
  message: string;
}

/** Everything wrong with an inventory, each problem with its position; shown all at once. */
export class InventoryError extends Error {
  constructor(readonly problems: InventoryProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InventoryError';
  }
}

export function formatProblem(p: InventoryProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}
