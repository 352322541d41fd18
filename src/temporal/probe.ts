import { Client, Connection } from '@temporalio/client';

/**
 * A client for health checks that reports Temporal as it is at the moment of asking. The SDK's connections retry
 * UNAVAILABLE with backoff until the call's deadline: a check of a frontend that was gone for less than the
 * deadline came back ok, and a restart of Temporal never showed in /health. This one, on a connection of its own
 * with the same address, TLS and credentials, makes one attempt per call.
 */
export function probeClient(client: Client): { client: Client; close(): Promise<void> } {
  const { connection } = client;
  if (!(connection instanceof Connection)) return { client, close: async () => {} };
  const probe = Connection.lazy({ ...connection.options, interceptors: [] });
  return { client: new Client({ connection: probe, namespace: client.options.namespace }), close: () => probe.close() };
}
