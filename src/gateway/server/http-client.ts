import WebSocket from 'ws';
import type { ContractClient } from '../../shared/contract';
import { httpContractClient, type WebSocketLike } from '../../shared/http-contract-client';

/** A contract client for Node (CLI, tests) over the console server's HTTP + WebSocket transport. */
export function httpClient(baseUrl: string, token: string): ContractClient {
  return httpContractClient({ baseUrl, token, createWebSocket: (url) => new WebSocket(url) as unknown as WebSocketLike });
}
