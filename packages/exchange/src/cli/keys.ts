/** `unseen keys generate|public`. @module */
import { Identity, ROLES, type Role } from '../identity.js';
import { loadIdentity, options, print, required, saveIdentity, UsageError } from './args.js';

export async function keys(cmd: string | undefined, argv: string[]): Promise<void> {
  const { values } = options(argv, {
    role: { type: 'string' },
    name: { type: 'string' },
    out: { type: 'string' },
    key: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (cmd === 'generate') {
    const role = required(values.role, 'role');
    if (!(ROLES as readonly string[]).includes(role))
      throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const id = Identity.generate(role as Role, required(values.name, 'name'));
    await saveIdentity(required(values.out, 'out'), id);
    print(
      values.json,
      id.public,
      `${id.role} ${id.name}: key id ${id.keyId}, secret key in ${values.out}`,
    );
    return;
  }
  if (cmd === 'public') {
    const id = await loadIdentity(required(values.key, 'key'));
    print(true, id.public);
    return;
  }
  throw new UsageError(
    'unseen keys generate --role R --name N --out FILE | unseen keys public --key FILE',
  );
}
