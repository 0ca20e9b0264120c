// The page's one model of the cluster.
import { ClusterModel } from "./model.js";

export const model = new ClusterModel();
