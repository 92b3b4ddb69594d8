/**
 * A kubeconfig for the emulator. Plain HTTP needs `insecure-skip-tls-verify: true`: client-node
 * refuses `http://` servers without it ("HTTP protocol is not allowed when skipTLSVerify is not set
 * or false"), and kubectl and helm accept it (reference §0.4). The token is sent by every client and
 * accepted, not checked: the emulator has no authentication.
 */
import { stringify } from 'yaml';

export const EMULATOR_TOKEN = 'switchyard-emulator-token';

export function kubeconfigYaml(url: string, name = 'switchyard-emulator'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name, user: { token: EMULATOR_TOKEN } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}
