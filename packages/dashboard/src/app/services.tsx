// The services table.
import { go } from "./router.js";
import { model } from "./state.js";
import { Cell, Row, VirtualTable, type Column } from "./virtual-table.js";

const COLUMNS: Column[] = [
  { title: "Name", width: "minmax(8rem, 1.5fr)" },
  { title: "Mode", width: "8rem" },
  { title: "Replicas", width: "6rem" },
  { title: "Image", width: "minmax(8rem, 2fr)" },
  { title: "Update", width: "minmax(8rem, 1fr)" },
  { title: "Ports", width: "minmax(6rem, 1fr)" },
];

export function ServicesPage() {
  return (
    <section class="page">
      <h1>
        Services <span class="count">{model.services.ids.value.length}</span>
      </h1>
      <VirtualTable
        testId="services-table"
        columns={COLUMNS}
        ids={model.services.ids}
        empty="No services."
        row={(id) => <ServiceRow id={id} />}
      />
    </section>
  );
}

function ServiceRow({ id }: { readonly id: string }) {
  const service = model.services.row(id)?.value;
  const replicas = model.serviceReplicas(id).value;
  if (!service) return <div class="row" />;
  return (
    <Row
      testId={`service-row-${service.name}`}
      onOpen={() => go(`services/${service.id}`)}
      data={{ running: String(replicas.running), desired: String(replicas.desired) }}
    >
      <Cell col="name">{service.name}</Cell>
      <Cell col="mode">{service.mode}</Cell>
      <Cell col="replicas">{`${replicas.running}/${replicas.desired}`}</Cell>
      <Cell col="image">{service.image}</Cell>
      <Cell col="update">{service.updateStatus?.state ?? ""}</Cell>
      <Cell col="ports">{service.ports.join(", ")}</Cell>
    </Row>
  );
}
