// NetworkService (DHCP/static configuration, hostname, interface info) and LicenseService.
import type {
  ApplyContractKeyRequestOutput,
  ApplyContractKeyResponseInput,
  GetLicenseStateResponseInput,
  GetNetworkConfigurationResponseInput,
  GetNetworkInfoResponseInput,
  NetworkConfigurationInput,
  SetNetworkConfigurationRequestOutput,
  SetNetworkConfigurationResponseInput,
} from '../../proto/types.ts';
import type { NetworkConfig } from '../miner-config.ts';
import { invalidArgument } from '../rpc-error.ts';
import type { VirtualMiner } from '../virtual-miner.ts';
import { unary, type ServiceHandlers } from './types.ts';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const HOSTNAME = /^(?=.{1,63}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;

function gatewayOf(address: string): string {
  const parts = address.split('.');
  return parts.length === 4 ? `${parts.slice(0, 3).join('.')}.254` : address;
}

function networkConfiguration(n: NetworkConfig): NetworkConfigurationInput {
  return n.protocol === 'static' && n.static
    ? {
        static: {
          address: n.static.address,
          netmask: n.static.netmask,
          gateway: n.static.gateway,
          dns_servers: n.static.dnsServers,
        },
        hostname: n.hostname,
      }
    : { dhcp: {}, hostname: n.hostname };
}

function setNetwork(miner: VirtualMiner, req: SetNetworkConfigurationRequestOutput): void {
  const next: NetworkConfig = { ...miner.network };
  if (req.hostname !== undefined) {
    if (!HOSTNAME.test(req.hostname))
      throw invalidArgument(`hostname '${req.hostname}' is not a valid host name`);
    next.hostname = req.hostname;
  }
  if (req.protocol === 'static') {
    const s = req.static;
    if (!s) throw invalidArgument('static configuration is required');
    for (const [name, v] of [
      ['address', s.address],
      ['netmask', s.netmask],
      ['gateway', s.gateway],
    ] as const) {
      if (!IPV4.test(v)) throw invalidArgument(`static.${name} '${v}' is not an IPv4 address`);
    }
    for (const dns of s.dns_servers)
      if (!IPV4.test(dns)) throw invalidArgument(`DNS server '${dns}' is not an IPv4 address`);
    next.protocol = 'static';
    next.static = {
      address: s.address,
      netmask: s.netmask,
      gateway: s.gateway,
      dnsServers: [...s.dns_servers],
    };
  } else if (req.protocol === 'dhcp') {
    next.protocol = 'dhcp';
    delete next.static;
  }
  miner.network = next;
  miner.changed();
}

export const networkHandlers: ServiceHandlers = {
  GetNetworkConfiguration: unary<unknown, GetNetworkConfigurationResponseInput>(({ miner }) => ({
    network: networkConfiguration(miner.network),
  })),
  // A static address is stored and reported; the simulator keeps serving on its loopback address.
  SetNetworkConfiguration: unary<SetNetworkConfigurationRequestOutput, SetNetworkConfigurationResponseInput>(
    ({ miner, request }) => {
      setNetwork(miner, request);
      return { network: networkConfiguration(miner.network) };
    },
  ),
  GetNetworkInfo: unary<unknown, GetNetworkInfoResponseInput>(({ miner }) => {
    const n = miner.network;
    const address = n.static?.address ?? miner.placement.host;
    return {
      name: 'eth0',
      mac_address: miner.identity.macAddress,
      hostname: n.hostname,
      protocol: n.protocol === 'static' ? 'NETWORK_PROTOCOL_STATIC' : 'NETWORK_PROTOCOL_DHCP',
      dns_servers: n.static?.dnsServers ?? [gatewayOf(miner.placement.host)],
      networks: [{ address, netmask: n.static?.netmask ?? '255.255.255.0' }],
      default_gateway: n.static?.gateway ?? gatewayOf(miner.placement.host),
    };
  }),
};

export const licenseHandlers: ServiceHandlers = {
  GetLicenseState: unary<unknown, GetLicenseStateResponseInput>(({ miner }) => {
    const l = miner.license;
    if (l.kind === 'none') return { none: { time_to_restricted: 0 } };
    return {
      valid: {
        type: l.type,
        contract_name: l.contractName,
        time_to_restricted: 0,
        dev_fee: { bsp: l.devFeeBsp },
      },
    };
  }),
  ApplyContractKey: unary<ApplyContractKeyRequestOutput, ApplyContractKeyResponseInput>(
    ({ miner, request }) => {
      const key = request.contract_key.trim();
      if (!/^[A-Za-z0-9-]{8,128}$/.test(key))
        throw invalidArgument('contract_key must be 8-128 letters, digits or dashes');
      miner.license = {
        kind: 'valid',
        type: 'LICENSE_TYPE_CUSTOM',
        contractName: `Contract ${key.slice(0, 8).toUpperCase()}`,
        devFeeBsp: 200,
      };
      miner.changed();
      return { successful: true };
    },
  ),
};
