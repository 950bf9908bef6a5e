import type {
  GatewayClientToServer,
  GatewayServerToClient,
  StaffClientToServer,
  StaffServerToClient,
} from '@nattevakt/protocol/socket-events';
import type { Namespace, Socket } from 'socket.io';

export interface GatewaySocketData {
  siteId: string;
}
export type GatewayNamespace = Namespace<GatewayClientToServer, GatewayServerToClient, Record<string, never>, GatewaySocketData>;
export type GatewaySocket = Socket<GatewayClientToServer, GatewayServerToClient, Record<string, never>, GatewaySocketData>;
export type StaffNamespace = Namespace<StaffClientToServer, StaffServerToClient>;
