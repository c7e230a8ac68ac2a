/* kp-panel-common.c: what the annotation window's side panels share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-panel-common.h"

guint
kp_panel_error_signal_new (GType panel_type)
{
  return g_signal_new ("error", panel_type, G_SIGNAL_RUN_LAST,
                       0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

gboolean
kp_panel_follow_document (gpointer     panel,
                          KpDocument **slot,
                          KpDocument  *document,
                          const char  *signal,
                          GCallback    callback)
{
  if (*slot == document)
    return FALSE;

  if (*slot != NULL)
    g_signal_handlers_disconnect_by_func (*slot, callback, panel);
  g_set_object (slot, document);
  if (document != NULL)
    g_signal_connect_object (document, signal, callback, panel, G_CONNECT_SWAPPED);

  return TRUE;
}

gboolean
kp_panel_follow_canvas (gpointer    panel,
                        KpCanvas  **slot,
                        KpCanvas   *canvas,
                        GCallback   selection_changed_cb,
                        GCallback   document_cb)
{
  if (*slot == canvas)
    return FALSE;

  if (*slot != NULL)
    {
      g_signal_handlers_disconnect_by_func (*slot, selection_changed_cb, panel);
      g_signal_handlers_disconnect_by_func (*slot, document_cb, panel);
      g_object_remove_weak_pointer (G_OBJECT (*slot), (gpointer *)slot);
    }

  *slot = canvas;

  if (canvas != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (canvas), (gpointer *)slot);
      g_signal_connect_object (canvas, "selection-changed", selection_changed_cb,
                               panel, G_CONNECT_SWAPPED);
      g_signal_connect_object (canvas, "notify::document", document_cb,
                               panel, G_CONNECT_SWAPPED);
    }

  return TRUE;
}

static GPtrArray *
copy_array (GPtrArray      *array,
            GBoxedCopyFunc  copy,
            GDestroyNotify  free_func)
{
  GPtrArray *copy_of = g_ptr_array_new_with_free_func (free_func);

  for (guint i = 0; array != NULL && i < array->len; i++)
    g_ptr_array_add (copy_of, copy (g_ptr_array_index (array, i)));

  return copy_of;
}

GPtrArray *
kp_panel_copy_labels (GPtrArray *labels)
{
  return copy_array (labels, (GBoxedCopyFunc)kp_label_copy, (GDestroyNotify)kp_label_free);
}

GPtrArray *
kp_panel_copy_attributes (GPtrArray *attributes)
{
  return copy_array (attributes, (GBoxedCopyFunc)kp_attribute_copy, (GDestroyNotify)kp_attribute_free);
}

const KpLabel *
kp_panel_find_label (GPtrArray *labels,
                     gint64     label_id)
{
  for (guint i = 0; labels != NULL && i < labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (labels, i);

      if (label->id == label_id)
        return label;
    }

  return NULL;
}

const KpAttribute *
kp_panel_find_attribute (GPtrArray *attributes,
                         gint64     attribute_id)
{
  for (guint i = 0; attributes != NULL && i < attributes->len; i++)
    {
      const KpAttribute *attribute = g_ptr_array_index (attributes, i);

      if (attribute->id == attribute_id)
        return attribute;
    }

  return NULL;
}
